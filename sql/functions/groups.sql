-- User groups of a tenant, their members and their owners.
-- Owning a group gives rights over that group only: it grants no permission.

CREATE OR REPLACE FUNCTION auth.create_user_group(_tenant_id uuid, _code text, _name text)
RETURNS uuid
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _user_group_id uuid;
    _constraint text;
BEGIN
    PERFORM auth.lock_tenants(ARRAY[_tenant_id]);  -- first: see effective_access.sql, lock order
    PERFORM auth.assert_tenant(_tenant_id);
    PERFORM auth.assert_code(_code, '_code');
    PERFORM auth.assert_given(_name, '_name');
    BEGIN
        INSERT INTO auth.user_group (tenant_id, code, name)
        VALUES (_tenant_id, _code, _name)
        RETURNING user_group_id INTO _user_group_id;
    EXCEPTION WHEN foreign_key_violation THEN
        PERFORM auth.recheck_parents(_tenant_id);  -- the tenant deleted concurrently: QN001
        RAISE;
    WHEN unique_violation THEN
        GET STACKED DIAGNOSTICS _constraint = CONSTRAINT_NAME;
        IF _constraint IS DISTINCT FROM 'user_group_tenant_code_key' THEN
            RAISE;
        END IF;
        RAISE EXCEPTION 'user group code taken'
            USING ERRCODE = 'QD004',
                  DETAIL = format('Tenant %s already has a user group %L.', _tenant_id, _code),
                  HINT = 'Choose another code.';
    END;
    RETURN _user_group_id;
END;
$$;
COMMENT ON FUNCTION auth.create_user_group(uuid, text, text) IS
    'Creates an active user group in a tenant and returns its id. QD004 when the code is taken in that tenant.';

CREATE OR REPLACE FUNCTION auth.update_user_group(
    _tenant_id     uuid,
    _user_group_id uuid,
    _code          text DEFAULT NULL,
    _name          text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _constraint text;
BEGIN
    -- Code and name grant nothing: no access changes, so no stamps to take.
    PERFORM auth.assert_tenant(_tenant_id);
    PERFORM auth.assert_user_group(_tenant_id, _user_group_id);
    IF _code IS NOT NULL THEN
        PERFORM auth.assert_code(_code, '_code');
    END IF;
    IF _name IS NOT NULL THEN
        PERFORM auth.assert_given(_name, '_name');
    END IF;
    BEGIN
        UPDATE auth.user_group g
           SET code = coalesce(_code, g.code),
               name = coalesce(_name, g.name)
         WHERE g.user_group_id = _user_group_id;
    EXCEPTION WHEN unique_violation THEN
        GET STACKED DIAGNOSTICS _constraint = CONSTRAINT_NAME;
        IF _constraint IS DISTINCT FROM 'user_group_tenant_code_key' THEN
            RAISE;
        END IF;
        RAISE EXCEPTION 'user group code taken'
            USING ERRCODE = 'QD004',
                  DETAIL = format('Tenant %s already has a user group %L.', _tenant_id, _code),
                  HINT = 'Choose another code.';
    END;
END;
$$;
COMMENT ON FUNCTION auth.update_user_group(uuid, uuid, text, text) IS
    'Renames a group: its code, its name, or both (NULL keeps a value). QN005 for a group of another tenant, '
    'QI003 for an invalid code, QD004 when the code is taken in that tenant.';

CREATE OR REPLACE FUNCTION auth.add_user_to_group(_tenant_id uuid, _user_group_id uuid, _user_id uuid)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _constraint text;
BEGIN
    PERFORM auth.lock_tenants(ARRAY[_tenant_id]);  -- first: see effective_access.sql, lock order
    PERFORM auth.assert_tenant(_tenant_id);
    PERFORM auth.assert_user_group(_tenant_id, _user_group_id);
    PERFORM auth.assert_user(_user_id);
    PERFORM auth.assert_tenant_member(_tenant_id, _user_id);
    BEGIN
        INSERT INTO auth.user_group_member (tenant_id, user_group_id, user_id)
        VALUES (_tenant_id, _user_group_id, _user_id);
    EXCEPTION WHEN foreign_key_violation THEN
        PERFORM auth.recheck_parents(_tenant_id, _user_id, _user_group_id, _membership := true);
        RAISE;
    WHEN unique_violation THEN
        GET STACKED DIAGNOSTICS _constraint = CONSTRAINT_NAME;
        IF _constraint IS DISTINCT FROM 'user_group_member_pkey' THEN
            RAISE;
        END IF;
        RAISE EXCEPTION 'already a group member'
            USING ERRCODE = 'QD007',
                  DETAIL = format('User %s is already a member of group %s.', _user_id, _user_group_id),
                  HINT = 'Nothing to do.';
    END;
END;
$$;
COMMENT ON FUNCTION auth.add_user_to_group(uuid, uuid, uuid) IS
    'Adds a member of the tenant to one of its groups. QN005 for a group of another tenant, '
    'QN006 when the user is not a member of the tenant, QD007 when already in the group.';

CREATE OR REPLACE FUNCTION auth.remove_user_from_group(_tenant_id uuid, _user_group_id uuid, _user_id uuid)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.lock_tenants(ARRAY[_tenant_id]);  -- first: see effective_access.sql, lock order
    PERFORM auth.assert_tenant(_tenant_id);
    PERFORM auth.assert_user_group(_tenant_id, _user_group_id);
    PERFORM auth.assert_user(_user_id);
    DELETE FROM auth.user_group_member m
     WHERE m.user_group_id = _user_group_id AND m.user_id = _user_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'not a group member'
            USING ERRCODE = 'QN008',
                  DETAIL = format('User %s is not a member of group %s.', _user_id, _user_group_id),
                  HINT = 'Nothing to remove.';
    END IF;
END;
$$;
COMMENT ON FUNCTION auth.remove_user_from_group(uuid, uuid, uuid) IS
    'Removes a user from a group of the tenant. QN008 when the user is not in the group.';

CREATE OR REPLACE FUNCTION auth.deactivate_user_group(_tenant_id uuid, _user_group_id uuid)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.lock_tenants(ARRAY[_tenant_id]);  -- first: see effective_access.sql, lock order
    PERFORM auth.assert_tenant(_tenant_id);
    PERFORM auth.assert_user_group(_tenant_id, _user_group_id);
    UPDATE auth.user_group g SET is_active = false WHERE g.user_group_id = _user_group_id AND g.is_active;
END;
$$;
COMMENT ON FUNCTION auth.deactivate_user_group(uuid, uuid) IS
    'Deactivates a group: its assignments stop granting anything to its members. Idempotent.';

CREATE OR REPLACE FUNCTION auth.activate_user_group(_tenant_id uuid, _user_group_id uuid)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.lock_tenants(ARRAY[_tenant_id]);  -- first: see effective_access.sql, lock order
    PERFORM auth.assert_tenant(_tenant_id);
    PERFORM auth.assert_user_group(_tenant_id, _user_group_id);
    UPDATE auth.user_group g SET is_active = true WHERE g.user_group_id = _user_group_id AND NOT g.is_active;
END;
$$;
COMMENT ON FUNCTION auth.activate_user_group(uuid, uuid) IS 'Reactivates a deactivated group. Idempotent.';

CREATE OR REPLACE FUNCTION auth.delete_user_group(_tenant_id uuid, _user_group_id uuid)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.lock_tenants(ARRAY[_tenant_id]);  -- first: see effective_access.sql, lock order
    PERFORM auth.assert_tenant(_tenant_id);
    PERFORM auth.assert_user_group(_tenant_id, _user_group_id);
    DELETE FROM auth.user_group g WHERE g.user_group_id = _user_group_id;
END;
$$;
COMMENT ON FUNCTION auth.delete_user_group(uuid, uuid) IS
    'Deletes a group with its memberships, owners and assignments.';

CREATE OR REPLACE FUNCTION auth.assign_group_owner(_tenant_id uuid, _user_group_id uuid, _user_id uuid)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.lock_tenants(ARRAY[_tenant_id]);  -- first: see effective_access.sql, lock order
    PERFORM auth.assert_tenant(_tenant_id);
    PERFORM auth.assert_user_group(_tenant_id, _user_group_id);
    PERFORM auth.assert_user(_user_id);
    PERFORM auth.assert_tenant_member(_tenant_id, _user_id);
    BEGIN
        -- Already an owner: the result holds, as for auth.assign_tenant_owner.
        INSERT INTO auth.owner (tenant_id, user_group_id, user_id)
        VALUES (_tenant_id, _user_group_id, _user_id)
        ON CONFLICT (user_group_id, user_id) DO NOTHING;
    EXCEPTION WHEN foreign_key_violation THEN
        PERFORM auth.recheck_parents(_tenant_id, _user_id, _user_group_id, _membership := true);
        RAISE;
    END;
END;
$$;
COMMENT ON FUNCTION auth.assign_group_owner(uuid, uuid, uuid) IS
    'Makes a member of the tenant an owner of one of its groups (need not be a group member). '
    'Grants no permission. Idempotent: assigning a current owner changes nothing. QN006 when not a tenant member.';

CREATE OR REPLACE FUNCTION auth.remove_group_owner(_tenant_id uuid, _user_group_id uuid, _user_id uuid)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.lock_tenants(ARRAY[_tenant_id]);  -- first: see effective_access.sql, lock order
    PERFORM auth.assert_tenant(_tenant_id);
    PERFORM auth.assert_user_group(_tenant_id, _user_group_id);
    PERFORM auth.assert_user(_user_id);
    DELETE FROM auth.owner o WHERE o.user_group_id = _user_group_id AND o.user_id = _user_id;
END;
$$;
COMMENT ON FUNCTION auth.remove_group_owner(uuid, uuid, uuid) IS
    'Removes a group owner. Idempotent: removing a user who does not own the group does nothing.';

CREATE OR REPLACE FUNCTION auth.is_group_owner(_tenant_id uuid, _user_group_id uuid, _user_id uuid)
RETURNS boolean
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.assert_tenant(_tenant_id);
    PERFORM auth.assert_user_group(_tenant_id, _user_group_id);
    PERFORM auth.assert_user(_user_id);
    RETURN EXISTS (SELECT FROM auth.owner o
                    WHERE o.user_group_id = _user_group_id AND o.user_id = _user_id);
END;
$$;
COMMENT ON FUNCTION auth.is_group_owner(uuid, uuid, uuid) IS
    'True when the user owns the group (whatever the state of the group or membership).';
