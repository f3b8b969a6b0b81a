-- Identities at external providers (single sign-on): link one to a user, find the user an
-- identity signs in as, list and unlink them, and find the member a first sign-in may link
-- to by email. The provider's checks (signature, issuer, audience, verified email) are the
-- caller's: these functions trust the issuer and subject they are given.

CREATE OR REPLACE FUNCTION auth.assert_identity(_issuer text, _subject text)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.assert_given(_issuer, '_issuer');
    PERFORM auth.assert_given(_subject, '_subject');
    IF char_length(_issuer) > 2048 OR char_length(_subject) > 255 THEN
        RAISE EXCEPTION 'identity too long'
            USING ERRCODE = 'QI008',
                  DETAIL = format('The issuer has %s characters (at most 2048), the subject %s (at most 255).',
                                  char_length(_issuer), char_length(_subject)),
                  HINT = 'Pass the iss and sub claims of the provider''s ID token as they are.';
    END IF;
END;
$$;
COMMENT ON FUNCTION auth.assert_identity(text, text) IS
    'Internal: QI001 for a NULL or blank issuer or subject, QI008 for an issuer over 2048 or a subject over 255 characters.';

CREATE OR REPLACE FUNCTION auth.get_user_by_identity(_issuer text, _subject text)
RETURNS uuid
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.assert_identity(_issuer, _subject);
    RETURN (SELECT i.user_id FROM auth.user_identity i WHERE i.issuer = _issuer AND i.subject = _subject);
END;
$$;
COMMENT ON FUNCTION auth.get_user_by_identity(text, text) IS
    'The user the identity (issuer, subject) is linked to, active or not; NULL when it is linked to no one. '
    'Compared exactly (case included). QI001 for a blank argument, QI008 for one too long.';

CREATE OR REPLACE FUNCTION auth.link_user_identity(_user_id uuid, _issuer text, _subject text, _email text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _owner uuid;
BEGIN
    PERFORM auth.assert_user(_user_id);
    PERFORM auth.assert_identity(_issuer, _subject);
    IF char_length(_email) > 320 THEN
        RAISE EXCEPTION 'email too long'
            USING ERRCODE = 'QI008',
                  DETAIL = format('The email has %s characters; at most 320 are allowed.', char_length(_email)),
                  HINT = 'Pass the email claim of the provider''s ID token.';
    END IF;
    -- The row lock makes two first sign-ins of one identity link it once.
    SELECT i.user_id INTO _owner FROM auth.user_identity i
     WHERE i.issuer = _issuer AND i.subject = _subject FOR UPDATE;
    IF _owner IS NULL THEN
        INSERT INTO auth.user_identity (issuer, subject, user_id, email) VALUES (_issuer, _subject, _user_id, _email)
        ON CONFLICT (issuer, subject) DO NOTHING;
        IF FOUND THEN
            RETURN true;
        END IF;
        SELECT i.user_id INTO _owner FROM auth.user_identity i
         WHERE i.issuer = _issuer AND i.subject = _subject FOR UPDATE;
    END IF;
    IF _owner <> _user_id THEN
        RAISE EXCEPTION 'identity linked to another user'
            USING ERRCODE = 'QD011',
                  DETAIL = format('The identity %s at %s signs in as user %s.', _subject, _issuer, _owner),
                  HINT = 'Unlink it from that user first (auth.unlink_user_identity).';
    END IF;
    -- Linked already: a sign-in, recorded with the email of the moment.
    UPDATE auth.user_identity i SET email = coalesce(_email, i.email), last_used_at = now()
     WHERE i.issuer = _issuer AND i.subject = _subject;
    RETURN false;
END;
$$;
COMMENT ON FUNCTION auth.link_user_identity(uuid, text, text, text) IS
    'Links the identity (issuer, subject) at an external provider to the user, so that it signs in as them; '
    'true when it is new. Linking it again to the same user records a sign-in (last_used_at, the email given) '
    'and returns false. QI001 for a blank argument, QI008 for one too long, QN002 for an unknown user, '
    'QD011 when the identity is linked to another user.';

CREATE OR REPLACE FUNCTION auth.unlink_user_identity(_user_id uuid, _issuer text, _subject text)
RETURNS boolean
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.assert_user(_user_id);
    PERFORM auth.assert_identity(_issuer, _subject);
    DELETE FROM auth.user_identity i WHERE i.user_id = _user_id AND i.issuer = _issuer AND i.subject = _subject;
    RETURN FOUND;
END;
$$;
COMMENT ON FUNCTION auth.unlink_user_identity(uuid, text, text) IS
    'Unlinks the identity from the user: it no longer signs in as them. True when it was linked to them, false '
    'otherwise (idempotent). QI001 for a blank argument, QI008 for one too long, QN002 for an unknown user.';

CREATE OR REPLACE FUNCTION auth.get_user_identities(_user_id uuid)
RETURNS TABLE (issuer text, subject text, email text, linked_at timestamptz, last_used_at timestamptz)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.assert_user(_user_id);
    RETURN QUERY
        SELECT i.issuer, i.subject, i.email, i.linked_at, i.last_used_at
          FROM auth.user_identity i WHERE i.user_id = _user_id
         ORDER BY i.issuer, i.subject;
END;
$$;
COMMENT ON FUNCTION auth.get_user_identities(uuid) IS
    'The identities linked to the user, by issuer and subject. QI001 for NULL, QN002 for an unknown user.';

CREATE OR REPLACE FUNCTION auth.get_tenant_member_by_email(_tenant_id uuid, _email text)
RETURNS uuid
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _found uuid[];
BEGIN
    PERFORM auth.assert_tenant(_tenant_id);
    PERFORM auth.assert_given(_email, '_email');
    SELECT array_agg(u.user_id ORDER BY u.user_id) INTO _found
      FROM auth.user_info u
      JOIN auth.tenant_user tu ON tu.user_id = u.user_id AND tu.tenant_id = _tenant_id
     WHERE lower(u.email) = lower(btrim(_email)) AND u.is_active AND tu.is_active;
    IF cardinality(_found) > 1 THEN
        RAISE EXCEPTION 'email shared by several members'
            USING ERRCODE = 'QS006',
                  DETAIL = format('%s active members of tenant %s have the email %s.', cardinality(_found), _tenant_id, _email),
                  HINT = 'Link the identity to the right user explicitly with auth.link_user_identity.';
    END IF;
    RETURN _found[1];
END;
$$;
COMMENT ON FUNCTION auth.get_tenant_member_by_email(uuid, text) IS
    'The active member of the tenant (active user, active membership) whose email is the one given, ignoring '
    'case; NULL when there is none. A first single sign-on links to this user. QI001 for a blank argument, '
    'QN001 for an unknown tenant, QS006 when several active members share the email.';
