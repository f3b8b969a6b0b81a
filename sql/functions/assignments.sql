-- Assignments: a permission set or a single code, granted in a tenant to a member or a group.

CREATE OR REPLACE FUNCTION auth.resolve_assignment(
    _tenant_id     uuid,
    _user_id       uuid,
    _user_group_id uuid,
    _perm_set_code text,
    _perm_code     text,
    OUT perm_set_id   uuid,
    OUT permission_id uuid)
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.assert_tenant(_tenant_id);
    IF num_nonnulls(_user_id, _user_group_id) <> 1 OR num_nonnulls(_perm_set_code, _perm_code) <> 1 THEN
        RAISE EXCEPTION 'invalid assignment'
            USING ERRCODE = 'QI004',
                  DETAIL = format('Got %s of _user_id/_user_group_id and %s of _perm_set_code/_perm_code.',
                                  num_nonnulls(_user_id, _user_group_id), num_nonnulls(_perm_set_code, _perm_code)),
                  HINT = 'Pass exactly one of _user_id and _user_group_id, and exactly one of _perm_set_code and _perm_code.';
    END IF;

    IF _user_id IS NOT NULL THEN
        PERFORM auth.assert_user(_user_id);
        PERFORM auth.assert_tenant_member(_tenant_id, _user_id);
    ELSE
        PERFORM auth.assert_user_group(_tenant_id, _user_group_id);
    END IF;

    -- Sets and groups are looked up inside _tenant_id only: another tenant's are unknown here.
    IF _perm_set_code IS NOT NULL THEN
        perm_set_id := auth.find_perm_set(_tenant_id, _perm_set_code);
    ELSE
        permission_id := auth.find_permission(_perm_code);
    END IF;
END;
$$;
COMMENT ON FUNCTION auth.resolve_assignment(uuid, uuid, uuid, text, text) IS
    'Internal: validates the arguments shared by assign_permission and unassign_permission and resolves '
    'the set or permission id (QI001, QI004, QN001-QN006).';

CREATE OR REPLACE FUNCTION auth.assign_permission(
    _tenant_id     uuid,
    _user_id       uuid DEFAULT NULL,
    _user_group_id uuid DEFAULT NULL,
    _perm_set_code text DEFAULT NULL,
    _perm_code     text DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _grant record;
    _assignment_id uuid;
    _constraint text;
BEGIN
    PERFORM auth.lock_tenants(ARRAY[_tenant_id]);  -- first: see effective_access.sql, lock order
    _grant := auth.resolve_assignment(_tenant_id, _user_id, _user_group_id, _perm_set_code, _perm_code);
    BEGIN
        INSERT INTO auth.permission_assignment (tenant_id, user_id, user_group_id, perm_set_id, permission_id)
        VALUES (_tenant_id, _user_id, _user_group_id, _grant.perm_set_id, _grant.permission_id)
        RETURNING assignment_id INTO _assignment_id;
    EXCEPTION WHEN foreign_key_violation THEN
        -- A parent (member, group, set, code, tenant) deleted concurrently: the same checks,
        -- on a fresh snapshot, now raise the documented error.
        PERFORM auth.resolve_assignment(_tenant_id, _user_id, _user_group_id, _perm_set_code, _perm_code);
        RAISE;
    WHEN unique_violation THEN
        GET STACKED DIAGNOSTICS _constraint = CONSTRAINT_NAME;
        IF _constraint IS DISTINCT FROM 'permission_assignment_key' THEN
            RAISE;
        END IF;
        RAISE EXCEPTION 'already assigned'
            USING ERRCODE = 'QD008',
                  DETAIL = format('In tenant %s, %s already has %s.', _tenant_id,
                                  coalesce('user ' || _user_id, 'group ' || _user_group_id),
                                  coalesce('permission set ' || quote_literal(_perm_set_code),
                                           'permission ' || quote_literal(_perm_code))),
                  HINT = 'Nothing to do.';
    END;
    RETURN _assignment_id;
END;
$$;
COMMENT ON FUNCTION auth.assign_permission(uuid, uuid, uuid, text, text) IS
    'Grants, in a tenant, a permission set (_perm_set_code) or a single code (_perm_code) to a member '
    '(_user_id) or a group (_user_group_id): exactly one of each pair (QI004). Returns the assignment id. '
    'QD008 when the same grant exists.';

CREATE OR REPLACE FUNCTION auth.unassign_permission(
    _tenant_id     uuid,
    _user_id       uuid DEFAULT NULL,
    _user_group_id uuid DEFAULT NULL,
    _perm_set_code text DEFAULT NULL,
    _perm_code     text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _grant record;
BEGIN
    PERFORM auth.lock_tenants(ARRAY[_tenant_id]);  -- first: see effective_access.sql, lock order
    _grant := auth.resolve_assignment(_tenant_id, _user_id, _user_group_id, _perm_set_code, _perm_code);
    DELETE FROM auth.permission_assignment a
     WHERE a.tenant_id = _tenant_id
       AND a.user_id IS NOT DISTINCT FROM _user_id
       AND a.user_group_id IS NOT DISTINCT FROM _user_group_id
       AND a.perm_set_id IS NOT DISTINCT FROM _grant.perm_set_id
       AND a.permission_id IS NOT DISTINCT FROM _grant.permission_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown assignment'
            USING ERRCODE = 'QN007',
                  DETAIL = format('In tenant %s, %s does not have %s.', _tenant_id,
                                  coalesce('user ' || _user_id, 'group ' || _user_group_id),
                                  coalesce('permission set ' || quote_literal(_perm_set_code),
                                           'permission ' || quote_literal(_perm_code))),
                  HINT = 'Only an existing assignment can be removed; a grant through a set or group is removed there.';
    END IF;
END;
$$;
COMMENT ON FUNCTION auth.unassign_permission(uuid, uuid, uuid, text, text) IS
    'Removes the assignment assign_permission made with the same arguments. QN007 when there is none.';
