-- Users: global identities that tenants admit as members.

CREATE OR REPLACE FUNCTION auth.create_user(
    _username     text,
    _email        text DEFAULT NULL,
    _display_name text DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _user_id uuid;
BEGIN
    PERFORM auth.assert_username(_username);
    BEGIN
        INSERT INTO auth.user_info (username, email, display_name)
        VALUES (_username, nullif(_email, ''), nullif(_display_name, ''))
        RETURNING user_id INTO _user_id;
    EXCEPTION WHEN unique_violation THEN
        -- Also reached by a concurrent insert of the same name.
        RAISE EXCEPTION 'username taken'
            USING ERRCODE = 'QD002',
                  DETAIL = format('Username %L is already in use (usernames ignore case).', _username),
                  HINT = 'Choose another username.';
    END;
    RETURN _user_id;
END;
$$;
COMMENT ON FUNCTION auth.create_user(text, text, text) IS
    'Creates an active user and returns its id. Usernames are unique ignoring case (QD002), at most 255 '
    'characters, without leading or trailing whitespace (QI008); an empty email or display name is stored as NULL.';

CREATE OR REPLACE FUNCTION auth.update_user(
    _user_id      uuid,
    _username     text DEFAULT NULL,
    _email        text DEFAULT NULL,
    _display_name text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.assert_user(_user_id);
    IF _username IS NOT NULL THEN
        PERFORM auth.assert_username(_username);
    END IF;
    BEGIN
        -- NULL keeps a value; '' clears the optional email and display name.
        UPDATE auth.user_info u
           SET username     = coalesce(_username, u.username),
               email        = CASE WHEN _email IS NULL THEN u.email ELSE nullif(_email, '') END,
               display_name = CASE WHEN _display_name IS NULL THEN u.display_name ELSE nullif(_display_name, '') END
         WHERE u.user_id = _user_id;
    EXCEPTION WHEN unique_violation THEN
        RAISE EXCEPTION 'username taken'
            USING ERRCODE = 'QD002',
                  DETAIL = format('Username %L is already in use (usernames ignore case).', _username),
                  HINT = 'Choose another username.';
    END;
END;
$$;
COMMENT ON FUNCTION auth.update_user(uuid, text, text, text) IS
    'Updates a user''s username, email and display name. NULL leaves a value unchanged; '
    'an empty string clears email or display name. QN002 for an unknown user, QD002 for a taken username, '
    'QI008 for a username too long or with leading or trailing whitespace.';

CREATE OR REPLACE FUNCTION auth.deactivate_user(_user_id uuid)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    -- The user's tenants first, then the user: see effective_access.sql, lock order. The
    -- user's stamp also makes a call that has nothing to change conflict with a concurrent
    -- (de)activation, so it never reports success from a stale snapshot.
    PERFORM auth.lock_tenants(ARRAY(SELECT tu.tenant_id FROM auth.tenant_user tu WHERE tu.user_id = _user_id));
    PERFORM auth.lock_users(ARRAY[_user_id]);
    PERFORM auth.assert_user(_user_id);
    UPDATE auth.user_info u SET is_active = false WHERE u.user_id = _user_id AND u.is_active;
END;
$$;
COMMENT ON FUNCTION auth.deactivate_user(uuid) IS
    'Deactivates a user: every check of that user fails in every tenant until reactivated. Idempotent.';

CREATE OR REPLACE FUNCTION auth.activate_user(_user_id uuid)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    -- The user's tenants first, then the user: see effective_access.sql, lock order. The
    -- user's stamp also makes a call that has nothing to change conflict with a concurrent
    -- (de)activation, so it never reports success from a stale snapshot.
    PERFORM auth.lock_tenants(ARRAY(SELECT tu.tenant_id FROM auth.tenant_user tu WHERE tu.user_id = _user_id));
    PERFORM auth.lock_users(ARRAY[_user_id]);
    PERFORM auth.assert_user(_user_id);
    UPDATE auth.user_info u SET is_active = true WHERE u.user_id = _user_id AND NOT u.is_active;
END;
$$;
COMMENT ON FUNCTION auth.activate_user(uuid) IS 'Reactivates a deactivated user. Idempotent.';
