-- Checks: the hot path. auth.has_permission and auth.require_permission are SECURITY
-- INVOKER without a SET clause (pinning search_path costs a GUC save/restore per call,
-- about 10% of a check); instead every name in them is schema-qualified, operators and
-- types included, so objects planted earlier on the caller's search_path are never used.
-- The other checks pin search_path.
-- They only read auth.permission and auth.effective_access, so they work in read-only
-- transactions and on replicas. A code that is not in the catalogue is an error, never a
-- silent "no".

-- The ancestors of a code the compiled catalogue (auth.permission_ancestors) does not know, from
-- the table (a snapshot older than the compiled copy, or an unknown code); the checks call it
-- only then, so their common path pays nothing for it.
CREATE OR REPLACE FUNCTION auth.lookup_permission_ancestors(_perm_code text)
RETURNS int[]
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    _ancestor_nos int[];
BEGIN
    SELECT p.ancestor_nos INTO _ancestor_nos FROM auth.permission p WHERE p.code::text = _perm_code;
    IF NOT FOUND THEN
        PERFORM auth.raise_permission_not_found(_perm_code);
    END IF;
    RETURN _ancestor_nos;
END;
$$;
COMMENT ON FUNCTION auth.lookup_permission_ancestors(text) IS
    'The permission_no of the code and of its ancestors, read from auth.permission: the checks'' fallback when '
    'auth.permission_ancestors answers NULL. QI001, QI002 or QN003 for a code not in the catalogue.';

CREATE OR REPLACE FUNCTION auth.has_permission(_tenant_id uuid, _user_id uuid, _perm_code text)
RETURNS boolean
LANGUAGE plpgsql
STABLE
AS $$
DECLARE
    _ancestor_nos int[];
    _granted boolean;
BEGIN
    -- The common case first, with no other work: the code and its ancestors from the
    -- compiled catalogue (no table read), then the one index lookup of the user's live
    -- membership row. Holding the code or any of its ancestors grants it; owners pass.
    -- A NULL argument finds nothing on this path and is reported below.
    --
    -- The lookup probes the hash index effective_access_member_key (migration 0004), whose
    -- expression this repeats exactly. The ids are then compared with uuid_eq written as a
    -- call, which the planner cannot match to the primary key, so the plan stays the hash
    -- probe (a btree descent costs about 5% of a check) and a hash collision is harmless.
    _ancestor_nos := auth.permission_ancestors(_perm_code);
    IF _ancestor_nos IS NOT NULL THEN
        SELECT ea.is_owner OR ea.permission_nos OPERATOR(pg_catalog.&&) _ancestor_nos
          INTO _granted
          FROM auth.effective_access ea
         WHERE pg_catalog.uuid_hash_extended(ea.user_id, pg_catalog.uuid_hash_extended(ea.tenant_id, 0))
               OPERATOR(pg_catalog.=) pg_catalog.uuid_hash_extended(_user_id, pg_catalog.uuid_hash_extended(_tenant_id, 0))
           AND pg_catalog.uuid_eq(ea.tenant_id, _tenant_id)
           AND pg_catalog.uuid_eq(ea.user_id, _user_id);
        IF FOUND THEN
            RETURN _granted;
        END IF;
    END IF;

    -- The rest: a NULL argument, no live membership, or a code the compiled copy does not
    -- know (the table is asked, and a code truly unknown raises).
    IF _tenant_id IS NULL OR _user_id IS NULL OR _perm_code IS NULL THEN
        RAISE EXCEPTION 'missing argument'
            USING ERRCODE = 'QI001',
                  DETAIL = '_tenant_id, _user_id and _perm_code are required.',
                  HINT = 'Pass a tenant id, a user id and a permission code.';
    END IF;
    IF _ancestor_nos IS NOT NULL THEN
        RETURN false;  -- no live membership
    END IF;
    _ancestor_nos := auth.lookup_permission_ancestors(_perm_code);
    RETURN EXISTS (SELECT FROM auth.effective_access ea
                    WHERE ea.tenant_id OPERATOR(pg_catalog.=) _tenant_id
                      AND ea.user_id OPERATOR(pg_catalog.=) _user_id
                      AND (ea.is_owner OR ea.permission_nos OPERATOR(pg_catalog.&&) _ancestor_nos));
END;
$$;
COMMENT ON FUNCTION auth.has_permission(uuid, uuid, text) IS
    'True when the user holds the code, or an ancestor of it, in the tenant through a direct assignment '
    'or an active group, or owns the tenant; and tenant, user and membership are all active. '
    'QI001 for a NULL argument, QI002 for a malformed code, QN003 for a code not in the catalogue.';

CREATE OR REPLACE FUNCTION auth.has_permissions(
    _tenant_id   uuid,
    _user_id     uuid,
    _perm_codes  text[],
    _require_all boolean DEFAULT false)
RETURNS boolean
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    _unknown_code text;
    _any_unknown boolean;
    _granted boolean;
BEGIN
    IF _tenant_id IS NULL OR _user_id IS NULL OR _require_all IS NULL
       OR _perm_codes IS NULL OR cardinality(_perm_codes) = 0 THEN
        RAISE EXCEPTION 'missing argument'
            USING ERRCODE = 'QI001',
                  DETAIL = '_tenant_id, _user_id, _require_all and a non-empty _perm_codes are required.',
                  HINT = 'Pass a tenant id, a user id and at least one permission code.';
    END IF;

    SELECT bool_or(p.permission_id IS NULL),
           (array_agg(c.code ORDER BY c.ord) FILTER (WHERE p.permission_id IS NULL))[1],
           CASE WHEN _require_all
                THEN bool_and(coalesce(ea.is_owner OR ea.permission_nos && p.ancestor_nos, false))
                ELSE bool_or(coalesce(ea.is_owner OR ea.permission_nos && p.ancestor_nos, false))
           END
      INTO _any_unknown, _unknown_code, _granted
      FROM unnest(_perm_codes) WITH ORDINALITY AS c(code, ord)
      LEFT JOIN auth.permission p ON p.code::text = c.code
      LEFT JOIN auth.effective_access ea ON ea.tenant_id = _tenant_id AND ea.user_id = _user_id;
    IF _any_unknown THEN
        PERFORM auth.raise_permission_not_found(_unknown_code);
    END IF;
    RETURN _granted;
END;
$$;
COMMENT ON FUNCTION auth.has_permissions(uuid, uuid, text[], boolean) IS
    'auth.has_permission for several codes: true when the user holds any of them (or all of them with '
    '_require_all). Every code must be in the catalogue (QN003); an empty array is QI001.';

-- VOLATILE, not STABLE: it is called for its effect (raising), and the planner drops an
-- unreferenced STABLE call, e.g. in INSERT ... SELECT ... FROM (SELECT auth.require_permission(...)) g,
-- so the guarded write would go through. It still only reads: fine in read-only transactions.
CREATE OR REPLACE FUNCTION auth.require_permission(_tenant_id uuid, _user_id uuid, _perm_code text)
RETURNS void
LANGUAGE plpgsql
VOLATILE
AS $$
BEGIN
    IF NOT auth.has_permission(_tenant_id, _user_id, _perm_code) THEN
        RAISE EXCEPTION 'permission denied'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = pg_catalog.format('User %s does not hold permission %L in tenant %s.',
                                             _user_id, _perm_code, _tenant_id),
                  HINT = pg_catalog.format('Grant it with auth.assign_permission(_tenant_id := %L, _user_id := %L, _perm_code := %L), '
                                'through a permission set or a group; and check that the tenant, the user, the '
                                'membership and the group are active.', _tenant_id, _user_id, _perm_code);
    END IF;
END;
$$;
COMMENT ON FUNCTION auth.require_permission(uuid, uuid, text) IS
    'Raises insufficient_privilege (42501), with the user, tenant and code in DETAIL, unless '
    'auth.has_permission is true. For use at the top of other functions.';

CREATE OR REPLACE FUNCTION auth.get_user_permissions(_tenant_id uuid, _user_id uuid)
RETURNS TABLE (perm_code text)
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
    IF _tenant_id IS NULL OR _user_id IS NULL THEN
        RAISE EXCEPTION 'missing argument'
            USING ERRCODE = 'QI001',
                  DETAIL = '_tenant_id and _user_id are required.',
                  HINT = 'Pass a tenant id and a user id.';
    END IF;
    -- Every catalogue code the user passes auth.has_permission for, descendants included.
    RETURN QUERY
    SELECT p.code::text
      FROM auth.effective_access ea
      JOIN auth.permission p ON ea.is_owner OR ea.permission_nos && p.ancestor_nos
     WHERE ea.tenant_id = _tenant_id AND ea.user_id = _user_id
     ORDER BY p.code::text COLLATE "C";
END;
$$;
COMMENT ON FUNCTION auth.get_user_permissions(uuid, uuid) IS
    'Every catalogue code the user effectively holds in the tenant (descendants of granted codes '
    'included; all codes for the owner), sorted. Empty without a live membership.';

CREATE OR REPLACE FUNCTION auth.check_tenant_access(_tenant_id uuid, _user_id uuid)
RETURNS boolean
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
    IF _tenant_id IS NULL OR _user_id IS NULL THEN
        RAISE EXCEPTION 'missing argument'
            USING ERRCODE = 'QI001',
                  DETAIL = '_tenant_id and _user_id are required.',
                  HINT = 'Pass a tenant id and a user id.';
    END IF;
    -- effective_access has a row exactly for each live membership.
    RETURN EXISTS (SELECT FROM auth.effective_access ea
                    WHERE ea.tenant_id = _tenant_id AND ea.user_id = _user_id);
END;
$$;
COMMENT ON FUNCTION auth.check_tenant_access(uuid, uuid) IS
    'True when the user has a live membership of the tenant: tenant, user and membership all active.';
