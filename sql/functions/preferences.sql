-- Per-tenant preferences of a member (free-form key/value text).

CREATE OR REPLACE FUNCTION auth.set_user_preference(
    _user_id          uuid,
    _tenant_id        uuid,
    _preference_key   text,
    _preference_value text)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.assert_user(_user_id);
    PERFORM auth.assert_tenant(_tenant_id);
    PERFORM auth.assert_preference_key(_preference_key);
    IF _preference_value IS NULL THEN
        -- NULL would be ambiguous with "no preference": deleting is explicit.
        RAISE EXCEPTION 'missing argument _preference_value'
            USING ERRCODE = 'QI001',
                  DETAIL = 'Argument _preference_value is NULL.',
                  HINT = 'Pass a value (it may be empty), or remove the preference with auth.delete_user_preference.';
    END IF;
    PERFORM auth.assert_tenant_member(_tenant_id, _user_id);
    -- No tenant lock: preferences are not access, and nothing here waits for that lock.
    BEGIN
        INSERT INTO auth.user_tenant_preference (user_id, tenant_id, preference_key, preference_value)
        VALUES (_user_id, _tenant_id, _preference_key, _preference_value)
        ON CONFLICT (user_id, tenant_id, preference_key)
        DO UPDATE SET preference_value = EXCLUDED.preference_value;
    EXCEPTION WHEN foreign_key_violation THEN
        PERFORM auth.recheck_parents(_tenant_id, _user_id, _membership := true);  -- removed concurrently: QN006
        RAISE;
    END;
END;
$$;
COMMENT ON FUNCTION auth.set_user_preference(uuid, uuid, text, text) IS
    'Sets (inserts or replaces) a preference of a tenant member. The value may be empty but not NULL '
    '(use auth.delete_user_preference); the key has at most 255 characters (QI008). QN006 when the user is '
    'not a member of the tenant.';

CREATE OR REPLACE FUNCTION auth.get_user_preferences(_user_id uuid, _tenant_id uuid)
RETURNS TABLE (preference_key text, preference_value text)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.assert_user(_user_id);
    PERFORM auth.assert_tenant(_tenant_id);
    RETURN QUERY
    SELECT p.preference_key, p.preference_value
      FROM auth.user_tenant_preference p
     WHERE p.user_id = _user_id AND p.tenant_id = _tenant_id
     ORDER BY p.preference_key;
END;
$$;
COMMENT ON FUNCTION auth.get_user_preferences(uuid, uuid) IS
    'The user''s preferences in the tenant, ordered by key (empty when there are none).';

CREATE OR REPLACE FUNCTION auth.delete_user_preference(_user_id uuid, _tenant_id uuid, _preference_key text)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.assert_user(_user_id);
    PERFORM auth.assert_tenant(_tenant_id);
    PERFORM auth.assert_given(_preference_key, '_preference_key');
    DELETE FROM auth.user_tenant_preference p
     WHERE p.user_id = _user_id AND p.tenant_id = _tenant_id AND p.preference_key = _preference_key;
END;
$$;
COMMENT ON FUNCTION auth.delete_user_preference(uuid, uuid, text) IS
    'Deletes one preference. Idempotent: deleting a missing key does nothing.';
