-- Invitations: an email invited to a tenant with a permission set and/or a group. The token is
-- returned once by auth.create_invitation, for the application to send; auth.accept_invitation
-- takes it once, before its expiry. A new invitation of the same email to the same tenant
-- replaces the one still pending (a resend).

CREATE OR REPLACE FUNCTION auth.create_invitation(
    _tenant_id     uuid,
    _email         text,
    _expires_at    timestamptz,
    _perm_set_code text DEFAULT NULL,
    _user_group_id uuid DEFAULT NULL)
RETURNS TABLE (invitation_id uuid, token text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _token text := auth.new_secret('pgpi_');
    _perm_set_id uuid;
    _invitation_id uuid;
BEGIN
    PERFORM auth.assert_tenant(_tenant_id);
    PERFORM auth.assert_given(_email, '_email');
    PERFORM auth.assert_given(_expires_at, '_expires_at');
    IF length(_email) > 254 OR _email !~ '^[^@\s]+@[^@\s]+$' THEN
        RAISE EXCEPTION 'invalid email'
            USING ERRCODE = 'QI012',
                  DETAIL = format('%L is not an email address (one @, no spaces, at most 254 characters).', left(_email, 300)),
                  HINT = 'Invite an address such as ann@example.com.';
    END IF;
    IF _expires_at <= now() THEN
        RAISE EXCEPTION 'expiry in the past'
            USING ERRCODE = 'QI001',
                  DETAIL = format('_expires_at is %s, not after now.', _expires_at),
                  HINT = 'Give a time in the future, e.g. now() + interval ''7 days''.';
    END IF;
    IF _perm_set_code IS NULL AND _user_group_id IS NULL THEN
        RAISE EXCEPTION 'nothing to give'
            USING ERRCODE = 'QI004',
                  DETAIL = 'An invitation needs a permission set (_perm_set_code), a group (_user_group_id), or both.',
                  HINT = 'Invite into the group or with the set the person needs.';
    END IF;
    IF _perm_set_code IS NOT NULL THEN
        _perm_set_id := auth.find_perm_set(_tenant_id, _perm_set_code);
    END IF;
    IF _user_group_id IS NOT NULL THEN
        PERFORM auth.assert_user_group(_tenant_id, _user_group_id);
    END IF;
    -- A resend: the pending invitation of this address to this tenant stops working.
    UPDATE auth.invitation i SET revoked_at = now()
     WHERE i.tenant_id = _tenant_id AND lower(i.email) = lower(_email)
       AND i.accepted_at IS NULL AND i.revoked_at IS NULL;
    INSERT INTO auth.invitation (tenant_id, email, perm_set_id, user_group_id, token_hash, expires_at, invited_by)
    VALUES (_tenant_id, _email, _perm_set_id, _user_group_id, auth.secret_hash(_token), _expires_at, auth.current_actor())
    RETURNING auth.invitation.invitation_id INTO _invitation_id;
    RETURN QUERY SELECT _invitation_id, _token;
END;
$$;
COMMENT ON FUNCTION auth.create_invitation(uuid, text, timestamptz, text, uuid) IS
    'Invites an email to a tenant with a permission set and/or a group, and returns the invitation''s id and its '
    'token, here only (send it to the address). Replaces a pending invitation of the same address to the tenant. '
    'QN001, QI001 (blank, or an expiry not in the future), QI012 (not an email), QI004 (neither set nor group), '
    'QN004, QN005.';

CREATE OR REPLACE FUNCTION auth.accept_invitation(
    _token        text,
    _username     text DEFAULT NULL,
    _display_name text DEFAULT NULL)
RETURNS TABLE (tenant_id uuid, user_id uuid, created boolean)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _invitation auth.invitation;
    _user_id uuid;
    _created boolean := false;
    _accounts integer;
BEGIN
    -- The row first, locked: a second acceptance of the same token waits, then finds it used.
    IF _token IS NOT NULL AND left(_token, 5) = 'pgpi_' AND length(_token) <= 200 THEN
        SELECT * INTO _invitation FROM auth.invitation i WHERE i.token_hash = auth.secret_hash(_token) FOR UPDATE;
    END IF;
    -- One answer for an unknown, used, revoked or expired token: a token is a secret, and
    -- nothing should tell which of these it is to whoever holds a wrong one.
    IF _invitation.invitation_id IS NULL OR _invitation.accepted_at IS NOT NULL
       OR _invitation.revoked_at IS NOT NULL OR _invitation.expires_at <= now() THEN
        RAISE EXCEPTION 'invalid invitation'
            USING ERRCODE = 'QN010',
                  DETAIL = 'The invitation is unknown, expired, revoked or already accepted.',
                  HINT = 'Ask the tenant''s administrator for a new invitation.';
    END IF;

    -- The account that has the email (the token came to that address), or a new one.
    SELECT count(*), min(u.user_id::text)::uuid INTO _accounts, _user_id
      FROM auth.user_info u WHERE lower(u.email) = lower(_invitation.email);
    IF _accounts > 1 THEN
        RAISE EXCEPTION 'several accounts have this email'
            USING ERRCODE = 'QS006',
                  DETAIL = format('%s accounts have the email %L: the invitation cannot tell which is meant.',
                                  _accounts, _invitation.email),
                  HINT = 'An administrator adds the right account to the tenant instead.';
    ELSIF _accounts = 0 THEN
        _user_id := auth.create_user(_username := coalesce(_username, _invitation.email), _email := _invitation.email,
                                     _display_name := _display_name);
        _created := true;
    END IF;

    IF NOT EXISTS (SELECT FROM auth.tenant_user tu
                    WHERE tu.tenant_id = _invitation.tenant_id AND tu.user_id = _user_id AND tu.is_active) THEN
        PERFORM auth.add_user_to_tenant(_invitation.tenant_id, _user_id);
    END IF;
    IF _invitation.perm_set_id IS NOT NULL AND NOT EXISTS (
           SELECT FROM auth.permission_assignment a
            WHERE a.tenant_id = _invitation.tenant_id AND a.user_id = _user_id AND a.perm_set_id = _invitation.perm_set_id) THEN
        PERFORM auth.assign_permission(_invitation.tenant_id, _user_id := _user_id,
                                       _perm_set_code := (SELECT ps.code FROM auth.perm_set ps
                                                           WHERE ps.perm_set_id = _invitation.perm_set_id));
    END IF;
    IF _invitation.user_group_id IS NOT NULL AND NOT EXISTS (
           SELECT FROM auth.user_group_member m
            WHERE m.user_group_id = _invitation.user_group_id AND m.user_id = _user_id) THEN
        PERFORM auth.add_user_to_group(_invitation.tenant_id, _invitation.user_group_id, _user_id);
    END IF;
    UPDATE auth.invitation i SET accepted_at = now(), accepted_user_id = _user_id
     WHERE i.invitation_id = _invitation.invitation_id;
    RETURN QUERY SELECT _invitation.tenant_id, _user_id, _created;
END;
$$;
COMMENT ON FUNCTION auth.accept_invitation(text, text, text) IS
    'Takes an invitation''s token, once: links the account with the invited email, or creates one (username '
    '_username, else the email), makes it an active member of the tenant, and gives it the invitation''s set and '
    'group. Returns the tenant, the user and whether the account was created. QN010 for an unknown, expired, revoked '
    'or used token (one answer for all), QS006 when several accounts have the email, QD002 when the username is taken.';

CREATE OR REPLACE FUNCTION auth.revoke_invitation(_tenant_id uuid, _invitation_id uuid)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _invitation auth.invitation;
BEGIN
    PERFORM auth.assert_tenant(_tenant_id);
    PERFORM auth.assert_given(_invitation_id, '_invitation_id');
    SELECT * INTO _invitation FROM auth.invitation i
     WHERE i.tenant_id = _tenant_id AND i.invitation_id = _invitation_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown invitation'
            USING ERRCODE = 'QN010',
                  DETAIL = format('Tenant %s has no invitation %s.', _tenant_id, _invitation_id),
                  HINT = 'auth.list_invitations lists a tenant''s invitations.';
    END IF;
    IF _invitation.accepted_at IS NOT NULL THEN
        RAISE EXCEPTION 'invitation already accepted'
            USING ERRCODE = 'QS007',
                  DETAIL = format('Invitation %s was accepted at %s by user %s.', _invitation_id, _invitation.accepted_at,
                                  _invitation.accepted_user_id),
                  HINT = 'Remove the user from the tenant instead (auth.remove_user_from_tenant).';
    END IF;
    UPDATE auth.invitation i SET revoked_at = now() WHERE i.invitation_id = _invitation_id AND i.revoked_at IS NULL;
END;
$$;
COMMENT ON FUNCTION auth.revoke_invitation(uuid, uuid) IS
    'Revokes a pending invitation: its token no longer works. Idempotent. QN010 for an invitation of another tenant '
    'or none, QS007 for one already accepted.';

CREATE OR REPLACE FUNCTION auth.list_invitations(
    _tenant_id           uuid,
    _page_size           integer DEFAULT 50,
    _after_created_at    timestamptz DEFAULT NULL,
    _after_invitation_id uuid DEFAULT NULL)
RETURNS TABLE (invitation_id uuid, email text, perm_set_code text, user_group_id uuid, user_group_code text,
               status text, expires_at timestamptz, created_at timestamptz, invited_by uuid,
               accepted_at timestamptz, accepted_user_id uuid, revoked_at timestamptz)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.assert_tenant(_tenant_id);
    PERFORM auth.assert_page_size(_page_size);
    PERFORM auth.assert_cursor(_after_created_at, _after_invitation_id, 'invitation_id');
    RETURN QUERY
    SELECT i.invitation_id, i.email, ps.code, i.user_group_id, g.code,
           CASE WHEN i.accepted_at IS NOT NULL THEN 'accepted'
                WHEN i.revoked_at IS NOT NULL THEN 'revoked'
                WHEN i.expires_at <= now() THEN 'expired'
                ELSE 'pending' END,
           i.expires_at, i.created_at, i.invited_by, i.accepted_at, i.accepted_user_id, i.revoked_at
      FROM auth.invitation i
      LEFT JOIN auth.perm_set ps  ON ps.perm_set_id = i.perm_set_id
      LEFT JOIN auth.user_group g ON g.user_group_id = i.user_group_id
     WHERE i.tenant_id = _tenant_id
       AND (_after_created_at IS NULL OR (i.created_at, i.invitation_id) > (_after_created_at, _after_invitation_id))
     ORDER BY i.created_at, i.invitation_id
     LIMIT _page_size;
END;
$$;
COMMENT ON FUNCTION auth.list_invitations(uuid, integer, timestamptz, uuid) IS
    'A page of a tenant''s invitations, oldest first (pass the last row''s created_at and invitation_id for the next), '
    'with their status: pending, accepted, revoked or expired. Never a token. QN001, QI009.';
