-- Admin-user passwords: bcrypt through pgcrypto.
--
-- pgcrypto may live in any schema (CREATE EXTENSION IF NOT EXISTS keeps an existing one
-- where it is), so the two wrappers below are generated with its actual schema written in,
-- and everything else calls the wrappers.

DO $generate$
DECLARE
    _crypto text := (SELECT quote_ident(n.nspname) FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
                      WHERE e.extname = 'pgcrypto');
BEGIN
    EXECUTE format($ddl$
        CREATE OR REPLACE FUNCTION platform.hash_password(_password text)
        RETURNS text LANGUAGE sql VOLATILE SET search_path = ''
        AS $body$ SELECT %1$s.crypt(_password, %1$s.gen_salt('bf', 10)) $body$
        $ddl$, _crypto);
    EXECUTE format($ddl$
        CREATE OR REPLACE FUNCTION platform.password_matches(_password text, _hash text)
        RETURNS boolean LANGUAGE sql STABLE SET search_path = ''
        AS $body$ SELECT %1$s.crypt(_password, _hash) OPERATOR(pg_catalog.=) _hash $body$
        $ddl$, _crypto);
END;
$generate$;
COMMENT ON FUNCTION platform.hash_password(text) IS 'A salted bcrypt hash (cost 10) of the password.';
COMMENT ON FUNCTION platform.password_matches(text, text) IS 'True when the password matches the bcrypt hash.';

CREATE OR REPLACE FUNCTION platform.assert_admin_password(_password text)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
SET search_path = ''
AS $$
BEGIN
    IF _password IS NULL OR pg_catalog.length(_password) < 8 OR pg_catalog.octet_length(_password) > 72 THEN
        RAISE EXCEPTION 'weak password'
            USING ERRCODE = 'QI006',
                  DETAIL = 'Admin passwords need 8 to 72 bytes (bcrypt reads no further).',
                  HINT = 'Use a longer passphrase, or let pgperm generate one.';
    END IF;
END;
$$;
COMMENT ON FUNCTION platform.assert_admin_password(text) IS
    'Raises QI006 unless the password has 8 characters to 72 bytes (bcrypt reads no further).';

CREATE OR REPLACE FUNCTION platform.create_admin_user(_email text, _password text, _is_superadmin boolean DEFAULT false)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    _admin_user_id uuid;
BEGIN
    PERFORM platform.assert_admin_password(_password);
    INSERT INTO platform.admin_user (email, password_hash, is_superadmin)
    VALUES (_email, platform.hash_password(_password), coalesce(_is_superadmin, false))
    RETURNING admin_user_id INTO _admin_user_id;
    RETURN _admin_user_id;
EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION 'admin user exists'
        USING ERRCODE = 'QD010',
              DETAIL = format('An admin user with email %L exists (emails compare case-insensitively).', _email),
              HINT = 'Pick another email, or delete the existing admin user first.';
END;
$$;
COMMENT ON FUNCTION platform.create_admin_user(text, text, boolean) IS
    'Creates an admin-portal user with a bcrypt-hashed password. QI006 for a password outside 8–72 bytes, QD010 for a taken email.';

CREATE OR REPLACE FUNCTION platform.set_admin_password(_admin_user_id uuid, _password text)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    PERFORM platform.assert_admin_password(_password);
    -- The trigger platform.tg_admin_user_end_sessions ends the admin's portal sessions in
    -- this transaction: whoever knew the old password may have signed in with it.
    UPDATE platform.admin_user a
       SET password_hash = platform.hash_password(_password), updated_at = pg_catalog.now()
     WHERE a.admin_user_id OPERATOR(pg_catalog.=) _admin_user_id;
    RETURN FOUND;
END;
$$;
COMMENT ON FUNCTION platform.set_admin_password(uuid, text) IS
    'Replaces an admin user''s password with a new bcrypt hash and so ends its portal sessions. False for an '
    'unknown admin user; QI006 for a password outside 8–72 bytes.';

CREATE OR REPLACE FUNCTION platform.verify_admin_password(_email text, _password text)
RETURNS uuid
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
    _admin platform.admin_user%ROWTYPE;
BEGIN
    SELECT * INTO _admin FROM platform.admin_user a
     WHERE pg_catalog.lower(a.email) OPERATOR(pg_catalog.=) pg_catalog.lower(_email);
    IF NOT FOUND THEN
        -- The same bcrypt work as a real check: a faster answer would tell which emails exist.
        PERFORM platform.hash_password(coalesce(_password, ''));
        RETURN NULL;
    END IF;
    IF platform.password_matches(_password, _admin.password_hash) AND _admin.is_active THEN
        RETURN _admin.admin_user_id;
    END IF;
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION platform.verify_admin_password(text, text) IS
    'The admin user''s id when the email (any case) and password match an active admin user, else NULL. '
    'Takes as long for an unknown email as for a wrong password.';
