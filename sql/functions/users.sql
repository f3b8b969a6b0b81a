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
    -- The user first, then the user's tenants, listed once the user's stamp is held: see
    -- effective_access.sql, lock order. No membership of the user can commit while we hold
    -- it, so the list is the one the trigger on auth.user_info finds again. The user's stamp
    -- also makes a call that has nothing to change conflict with a concurrent
    -- (de)activation, so it never reports success from a stale snapshot.
    PERFORM auth.lock_users(ARRAY[_user_id]);
    PERFORM auth.lock_tenants(ARRAY(SELECT tu.tenant_id FROM auth.tenant_user tu WHERE tu.user_id = _user_id));
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
    -- The user first, then the user's tenants, listed once the user's stamp is held: see
    -- effective_access.sql, lock order. No membership of the user can commit while we hold
    -- it, so the list is the one the trigger on auth.user_info finds again. The user's stamp
    -- also makes a call that has nothing to change conflict with a concurrent
    -- (de)activation, so it never reports success from a stale snapshot.
    PERFORM auth.lock_users(ARRAY[_user_id]);
    PERFORM auth.lock_tenants(ARRAY(SELECT tu.tenant_id FROM auth.tenant_user tu WHERE tu.user_id = _user_id));
    PERFORM auth.assert_user(_user_id);
    UPDATE auth.user_info u SET is_active = true WHERE u.user_id = _user_id AND NOT u.is_active;
END;
$$;
COMMENT ON FUNCTION auth.activate_user(uuid) IS 'Reactivates a deactivated user. Idempotent.';

CREATE OR REPLACE FUNCTION auth.delete_user(_user_id uuid, _force boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _owned uuid[];
BEGIN
    -- The user first, then the user's tenants, listed once the user's stamp is held: see
    -- effective_access.sql, lock order. A new membership stamps its user before its row is
    -- inserted, so none can commit while we hold the stamp, and the cascade below meets no
    -- membership whose tenant we have not stamped already.
    PERFORM auth.lock_users(ARRAY[_user_id]);
    PERFORM auth.lock_tenants(ARRAY(SELECT tu.tenant_id FROM auth.tenant_user tu WHERE tu.user_id = _user_id));
    PERFORM auth.assert_user(_user_id);
    PERFORM auth.assert_given(_force, '_force');

    -- A tenant must not silently lose its owner: the rule of auth.remove_user_from_tenant.
    _owned := ARRAY(SELECT o.tenant_id FROM auth.owner o
                     WHERE o.user_id = _user_id AND o.user_group_id IS NULL
                     ORDER BY o.tenant_id);
    IF cardinality(_owned) > 0 AND NOT _force THEN
        RAISE EXCEPTION 'user is a tenant owner'
            USING ERRCODE = 'QS002',
                  DETAIL = format('User %s owns %s tenant(s): %s.', _user_id, cardinality(_owned), array_to_string(_owned, ', ')),
                  HINT = format('Transfer ownership first (auth.transfer_tenant_ownership), or delete the user anyway: '
                                'auth.delete_user(_user_id := %L, _force := true); those tenants keep their other owners, '
                                'or are left without one.', _user_id);
    END IF;

    -- The foreign keys' ON DELETE CASCADE take the password, the memberships and, with
    -- them, group memberships, ownerships, assignments, preferences and cache rows; each is
    -- audited by its table's trigger.
    DELETE FROM auth.user_info u WHERE u.user_id = _user_id;
END;
$$;
COMMENT ON FUNCTION auth.delete_user(uuid, boolean) IS
    'Deletes a user everywhere: password, memberships, group memberships, group and tenant ownerships, direct '
    'assignments and preferences. Its audit history is kept. QS002 when the user owns a tenant, unless '
    '_force := true (the tenant keeps its other owners, or has none). QN002 for an unknown user.';
