-- Permission sets: named bundles of codes, owned by one tenant or (tenant NULL) templates.

CREATE OR REPLACE FUNCTION auth.create_perm_set(_tenant_id uuid, _code text, _name text, _description text DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _perm_set_id uuid;
    _constraint text;
BEGIN
    PERFORM auth.lock_tenants(ARRAY[_tenant_id]);  -- none for a template; first: see effective_access.sql, lock order
    IF _tenant_id IS NOT NULL THEN
        PERFORM auth.assert_tenant(_tenant_id);
    END IF;
    PERFORM auth.assert_code(_code, '_code');
    PERFORM auth.assert_given(_name, '_name');
    BEGIN
        INSERT INTO auth.perm_set (tenant_id, code, name, description)
        VALUES (_tenant_id, _code, _name, _description)
        RETURNING perm_set_id INTO _perm_set_id;
    EXCEPTION WHEN foreign_key_violation THEN
        PERFORM auth.recheck_parents(_tenant_id);  -- the tenant deleted concurrently: QN001
        RAISE;
    WHEN unique_violation THEN
        GET STACKED DIAGNOSTICS _constraint = CONSTRAINT_NAME;
        IF _constraint IS DISTINCT FROM 'perm_set_tenant_code_key' THEN
            RAISE;
        END IF;
        RAISE EXCEPTION 'permission set code taken'
            USING ERRCODE = 'QD003',
                  DETAIL = CASE WHEN _tenant_id IS NULL
                                THEN format('A template permission set %L already exists.', _code)
                                ELSE format('Tenant %s already has a permission set %L.', _tenant_id, _code) END,
                  HINT = 'Choose another code, or add codes to the existing set.';
    END;
    RETURN _perm_set_id;
END;
$$;
COMMENT ON FUNCTION auth.create_perm_set(uuid, text, text, text) IS
    'Creates an empty permission set in a tenant, or a template when _tenant_id is NULL (copied into '
    'tenants created afterwards), and returns its id. QD003 when the code is taken.';

CREATE OR REPLACE FUNCTION auth.update_perm_set(
    _tenant_id     uuid,
    _perm_set_code text,
    _name          text DEFAULT NULL,
    _description   text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _perm_set_id uuid;
BEGIN
    -- The code stays: applications and assignments name a set by it. Name and description
    -- grant nothing, so no stamps to take.
    IF _tenant_id IS NOT NULL THEN
        PERFORM auth.assert_tenant(_tenant_id);
    END IF;
    _perm_set_id := auth.find_perm_set(_tenant_id, _perm_set_code);
    IF _name IS NOT NULL THEN
        PERFORM auth.assert_given(_name, '_name');
    END IF;
    -- NULL keeps a value; '' clears the optional description.
    UPDATE auth.perm_set ps
       SET name        = coalesce(_name, ps.name),
           description = CASE WHEN _description IS NULL THEN ps.description ELSE nullif(_description, '') END
     WHERE ps.perm_set_id = _perm_set_id;
END;
$$;
COMMENT ON FUNCTION auth.update_perm_set(uuid, text, text, text) IS
    'Changes the name or description of a permission set (_tenant_id NULL: a template); NULL keeps a value, '
    'an empty description clears it. The code never changes. QN001, QN004, QI001 for a blank name.';

CREATE OR REPLACE FUNCTION auth.add_perm_set_permissions(_tenant_id uuid, _perm_set_code text, _perm_codes text[])
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _perm_set_id uuid;
    _permission_ids uuid[];
BEGIN
    PERFORM auth.lock_tenants(ARRAY[_tenant_id]);  -- none for a template; first: see effective_access.sql, lock order
    IF _tenant_id IS NOT NULL THEN
        PERFORM auth.assert_tenant(_tenant_id);
    END IF;
    _perm_set_id := auth.find_perm_set(_tenant_id, _perm_set_code);
    -- Every code is checked before anything is added.
    _permission_ids := auth.find_permissions(_perm_codes);
    BEGIN
        INSERT INTO auth.perm_set_permission (perm_set_id, permission_id)
        SELECT _perm_set_id, ids.permission_id
          FROM unnest(_permission_ids) AS ids(permission_id)
        ON CONFLICT DO NOTHING;
    EXCEPTION WHEN foreign_key_violation THEN
        -- The set or a code deleted concurrently: the same lookups now raise QN004 or QN003.
        PERFORM auth.find_perm_set(_tenant_id, _perm_set_code);
        PERFORM auth.find_permissions(_perm_codes);
        RAISE;
    END;
END;
$$;
COMMENT ON FUNCTION auth.add_perm_set_permissions(uuid, text, text[]) IS
    'Adds codes to a set (a template when _tenant_id is NULL). Codes already in it are skipped; an unknown '
    'code (QN003) or malformed one (QI002) adds nothing. Each code grants its descendants too.';

CREATE OR REPLACE FUNCTION auth.remove_perm_set_permissions(_tenant_id uuid, _perm_set_code text, _perm_codes text[])
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _perm_set_id uuid;
    _permission_ids uuid[];
BEGIN
    PERFORM auth.lock_tenants(ARRAY[_tenant_id]);  -- none for a template; first: see effective_access.sql, lock order
    IF _tenant_id IS NOT NULL THEN
        PERFORM auth.assert_tenant(_tenant_id);
    END IF;
    _perm_set_id := auth.find_perm_set(_tenant_id, _perm_set_code);
    _permission_ids := auth.find_permissions(_perm_codes);
    DELETE FROM auth.perm_set_permission sp
     WHERE sp.perm_set_id = _perm_set_id
       AND sp.permission_id = ANY (_permission_ids);
END;
$$;
COMMENT ON FUNCTION auth.remove_perm_set_permissions(uuid, text, text[]) IS
    'Removes codes from a set; codes not in it are ignored, unknown codes raise QN003 and remove nothing. '
    'Only the exact codes go: removing a parent does not remove its children listed separately.';

CREATE OR REPLACE FUNCTION auth.delete_perm_set(_tenant_id uuid, _perm_set_code text, _force boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _perm_set_id uuid;
    _grantees text[];
BEGIN
    PERFORM auth.lock_tenants(ARRAY[_tenant_id]);  -- none for a template; first: see effective_access.sql, lock order
    IF _tenant_id IS NOT NULL THEN
        PERFORM auth.assert_tenant(_tenant_id);
    END IF;
    PERFORM auth.assert_given(_force, '_force');
    _perm_set_id := auth.find_perm_set(_tenant_id, _perm_set_code);

    -- Templates are never assigned (an assignment names a tenant's set), so they never refuse.
    IF NOT _force THEN
        _grantees := ARRAY(
            SELECT CASE WHEN a.user_group_id IS NOT NULL THEN format('group %s', g.code) ELSE format('user %s', u.username) END
              FROM auth.permission_assignment a
              LEFT JOIN auth.user_group g ON g.user_group_id = a.user_group_id
              LEFT JOIN auth.user_info u ON u.user_id = a.user_id
             WHERE a.perm_set_id = _perm_set_id
             ORDER BY a.user_group_id IS NULL, g.code, u.username);
        IF cardinality(_grantees) > 0 THEN
            RAISE EXCEPTION 'permission set assigned'
                USING ERRCODE = 'QS004',
                      DETAIL = format('Permission set %L of tenant %s is assigned %s time(s): to %s%s.',
                                      _perm_set_code, _tenant_id, cardinality(_grantees),
                                      array_to_string(_grantees[1:5], ', '),
                                      CASE WHEN cardinality(_grantees) > 5 THEN format(' and %s more', cardinality(_grantees) - 5) ELSE '' END),
                      HINT = format('Unassign it first (auth.unassign_permission), or delete it with its assignments: '
                                    'auth.delete_perm_set(_tenant_id := %L, _perm_set_code := %L, _force := true).',
                                    _tenant_id, _perm_set_code);
        END IF;
    END IF;
    DELETE FROM auth.perm_set ps WHERE ps.perm_set_id = _perm_set_id;
END;
$$;
COMMENT ON FUNCTION auth.delete_perm_set(uuid, text, boolean) IS
    'Deletes a set with its codes. A set that is assigned is refused with QS004, whose DETAIL names the grantees; '
    'with _force := true it is deleted with every assignment of it (those users lose its rights). Deleting a '
    'template leaves the tenants'' copies alone. QN004 for an unknown set.';

CREATE OR REPLACE FUNCTION auth.tg_perm_set_delete_contents()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    -- Empty the set while it still exists. Left to the ON DELETE CASCADE, its codes would be
    -- deleted after the set, and their audit rows could no longer find the set's tenant.
    DELETE FROM auth.perm_set_permission sp WHERE sp.perm_set_id = OLD.perm_set_id;
    RETURN OLD;
END;
$$;
COMMENT ON FUNCTION auth.tg_perm_set_delete_contents() IS
    'Trigger (BEFORE DELETE on auth.perm_set, row): deletes the set''s codes first, so that their audit '
    'rows carry the set''s tenant, however the set is deleted (function, direct DML, tenant deletion).';

CREATE OR REPLACE FUNCTION auth.duplicate_perm_set(_from_tenant_id uuid, _to_tenant_id uuid, _perm_set_code text)
RETURNS uuid
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _source_id uuid;
    _copy_id uuid;
    _constraint text;
BEGIN
    -- The target's lock only: the source is read, not changed (none for templates).
    PERFORM auth.lock_tenants(ARRAY[_to_tenant_id]);  -- first: see effective_access.sql, lock order
    IF _from_tenant_id IS NOT NULL THEN
        PERFORM auth.assert_tenant(_from_tenant_id);
    END IF;
    IF _to_tenant_id IS NOT NULL THEN
        PERFORM auth.assert_tenant(_to_tenant_id);
    END IF;
    _source_id := auth.find_perm_set(_from_tenant_id, _perm_set_code);
    BEGIN
        INSERT INTO auth.perm_set (tenant_id, code, name, description)
        SELECT _to_tenant_id, ps.code, ps.name, ps.description
          FROM auth.perm_set ps
         WHERE ps.perm_set_id = _source_id
        RETURNING perm_set_id INTO _copy_id;
        IF _copy_id IS NULL THEN
            -- The source was deleted after it was found: this lookup raises QN004.
            PERFORM auth.find_perm_set(_from_tenant_id, _perm_set_code);
        END IF;
        INSERT INTO auth.perm_set_permission (perm_set_id, permission_id)
        SELECT _copy_id, sp.permission_id
          FROM auth.perm_set_permission sp
         WHERE sp.perm_set_id = _source_id;
    EXCEPTION WHEN foreign_key_violation THEN
        -- The target tenant or a copied code deleted concurrently.
        PERFORM auth.recheck_parents(_to_tenant_id);
        RAISE;
    WHEN unique_violation THEN
        GET STACKED DIAGNOSTICS _constraint = CONSTRAINT_NAME;
        IF _constraint IS DISTINCT FROM 'perm_set_tenant_code_key' THEN
            RAISE;
        END IF;
        RAISE EXCEPTION 'permission set code taken'
            USING ERRCODE = 'QD003',
                  DETAIL = CASE WHEN _to_tenant_id IS NULL
                                THEN format('A template permission set %L already exists.', _perm_set_code)
                                ELSE format('Tenant %s already has a permission set %L.', _to_tenant_id, _perm_set_code) END,
                  HINT = 'Delete the target''s set first, or add codes to it with auth.add_perm_set_permissions.';
    END;
    RETURN _copy_id;
END;
$$;
COMMENT ON FUNCTION auth.duplicate_perm_set(uuid, uuid, text) IS
    'Copies a set, with its codes, from one tenant to another under the same code and returns the copy''s id. '
    'NULL on either side means the templates. QN004 when the source is missing, QD003 when the target has the code.';
