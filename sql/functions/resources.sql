-- Access to individual resources: a code granted, or denied, on one resource of a tenant
-- (a type such as document and the application's id for it) to a member or a group.
--
-- Semantics, the same as for tenant-wide grants where they overlap:
--   * nothing is granted without live access (tenant, user and membership active); a group's
--     grants reach its members only while the group is active;
--   * holding a code on a resource grants its descendants there;
--   * a tenant-wide grant of the code (or an ancestor) covers every resource of the tenant;
--   * a deny of the code (or an ancestor) on a resource, to the member or an active group of
--     theirs, overrides every grant of it there, tenant-wide ones included;
--   * the tenant's owner passes every check, as for tenant-wide checks.
-- The checks read auth.effective_access (one row: live access, owner, tenant-wide codes, the
-- member's active groups) and the grants of the one resource asked about (an index range):
-- their cost does not depend on the number of resources or grants in the tenant.

CREATE OR REPLACE FUNCTION auth.assert_resource(_resource_type text, _resource_id text)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.assert_given(_resource_type, '_resource_type');
    PERFORM auth.assert_given(_resource_id, '_resource_id');
    IF _resource_type !~ '^[a-z][a-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION 'invalid resource type'
            USING ERRCODE = 'QI011',
                  DETAIL = format('Resource type %L is not a lower-case letter followed by lower-case letters, digits or _ (at most 63).',
                                  left(_resource_type, 100)),
                  HINT = 'Name the kind of resource, e.g. document or project_file.';
    END IF;
    IF length(_resource_id) > 255 THEN
        RAISE EXCEPTION 'invalid resource id'
            USING ERRCODE = 'QI011',
                  DETAIL = format('The resource id is %s characters long; at most 255 are allowed.', length(_resource_id)),
                  HINT = 'Use the resource''s key (a uuid, a number, a short text), not its content.';
    END IF;
END;
$$;
COMMENT ON FUNCTION auth.assert_resource(text, text) IS
    'Internal: QI001 for a NULL or blank type or id, QI011 for a malformed type or an id over 255 characters.';

-- What grant, deny and revoke check first, in this order: the tenant, the resource, and one
-- grantee of the tenant (a member, active or not, or a group; another tenant's is unknown here).
CREATE OR REPLACE FUNCTION auth.assert_resource_grantee(
    _tenant_id     uuid,
    _resource_type text,
    _resource_id   text,
    _user_id       uuid,
    _user_group_id uuid)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.assert_tenant(_tenant_id);
    PERFORM auth.assert_resource(_resource_type, _resource_id);
    IF (_user_id IS NULL) = (_user_group_id IS NULL) THEN
        RAISE EXCEPTION 'invalid grantee'
            USING ERRCODE = 'QI004',
                  DETAIL = 'Exactly one of _user_id and _user_group_id must be given.',
                  HINT = 'Name one member (_user_id) or one group (_user_group_id).';
    END IF;
    IF _user_id IS NOT NULL THEN
        PERFORM auth.assert_user(_user_id);
        PERFORM auth.assert_tenant_member(_tenant_id, _user_id);
    ELSE
        PERFORM auth.assert_user_group(_tenant_id, _user_group_id);
    END IF;
END;
$$;
COMMENT ON FUNCTION auth.assert_resource_grantee(uuid, text, text, uuid, uuid) IS
    'Internal: QN001, then auth.assert_resource, then QI004 unless exactly one grantee is given, then QN002 or QN006 '
    'for a user who is not a member of the tenant, QN005 for a group that is not the tenant''s.';

-- One grantee, one code, one resource: the internal body of grant and deny.
CREATE OR REPLACE FUNCTION auth.set_resource_grant(
    _tenant_id     uuid,
    _resource_type text,
    _resource_id   text,
    _perm_code     text,
    _user_id       uuid,
    _user_group_id uuid,
    _is_deny       boolean)
RETURNS uuid
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _permission_no integer;
    _resource_grant_id uuid;
BEGIN
    PERFORM auth.assert_resource_grantee(_tenant_id, _resource_type, _resource_id, _user_id, _user_group_id);
    SELECT p.permission_no INTO _permission_no
      FROM auth.permission p WHERE p.permission_id = auth.find_permission(_perm_code);
    BEGIN
        -- One state per (resource, grantee, code): a grant replaces a deny and the reverse;
        -- the same state again changes nothing.
        INSERT INTO auth.resource_grant AS rg
               (tenant_id, resource_type, resource_id, user_id, user_group_id, permission_no, is_deny)
        VALUES (_tenant_id, _resource_type, _resource_id, _user_id, _user_group_id, _permission_no, _is_deny)
        ON CONFLICT (tenant_id, resource_type, resource_id, coalesce(user_id, user_group_id), permission_no)
        DO UPDATE SET is_deny = EXCLUDED.is_deny
         WHERE rg.is_deny IS DISTINCT FROM EXCLUDED.is_deny
        RETURNING rg.resource_grant_id INTO _resource_grant_id;
    EXCEPTION WHEN foreign_key_violation THEN
        PERFORM auth.recheck_parents(_tenant_id, _user_id, _user_group_id, _membership := _user_id IS NOT NULL);
        PERFORM auth.find_permission(_perm_code);  -- the code deleted concurrently: QN003
        RAISE;
    END;
    IF _resource_grant_id IS NULL THEN  -- unchanged: the existing row's id
        SELECT rg.resource_grant_id INTO _resource_grant_id
          FROM auth.resource_grant rg
         WHERE rg.tenant_id = _tenant_id AND rg.resource_type = _resource_type AND rg.resource_id = _resource_id
           AND coalesce(rg.user_id, rg.user_group_id) = coalesce(_user_id, _user_group_id)
           AND rg.permission_no = _permission_no;
    END IF;
    RETURN _resource_grant_id;
END;
$$;
COMMENT ON FUNCTION auth.set_resource_grant(uuid, text, text, text, uuid, uuid, boolean) IS
    'Internal: the body of auth.grant_resource_permission and auth.deny_resource_permission.';

CREATE OR REPLACE FUNCTION auth.grant_resource_permission(
    _tenant_id     uuid,
    _resource_type text,
    _resource_id   text,
    _perm_code     text,
    _user_id       uuid DEFAULT NULL,
    _user_group_id uuid DEFAULT NULL)
RETURNS uuid
LANGUAGE sql
SECURITY DEFINER
SET search_path = ''
AS $$
    SELECT auth.set_resource_grant(_tenant_id, _resource_type, _resource_id, _perm_code, _user_id, _user_group_id, false)
$$;
COMMENT ON FUNCTION auth.grant_resource_permission(uuid, text, text, text, uuid, uuid) IS
    'Grants a code (and its descendants) on one resource to a member (_user_id) or a group (_user_group_id) of the '
    'tenant, and returns the grant''s id. Replaces a deny of the same code to the same grantee there; granting '
    'again changes nothing. QI001, QI004 (both or neither grantee), QI011 (a malformed type or id), QN001, QN002, '
    'QN006, QN005 (another tenant''s group too), QN003.';

CREATE OR REPLACE FUNCTION auth.deny_resource_permission(
    _tenant_id     uuid,
    _resource_type text,
    _resource_id   text,
    _perm_code     text,
    _user_id       uuid DEFAULT NULL,
    _user_group_id uuid DEFAULT NULL)
RETURNS uuid
LANGUAGE sql
SECURITY DEFINER
SET search_path = ''
AS $$
    SELECT auth.set_resource_grant(_tenant_id, _resource_type, _resource_id, _perm_code, _user_id, _user_group_id, true)
$$;
COMMENT ON FUNCTION auth.deny_resource_permission(uuid, text, text, text, uuid, uuid) IS
    'Denies a code (and its descendants) on one resource to a member or a group: it overrides every grant of the code '
    'there, tenant-wide ones included (the owner still passes). Replaces a grant of the same code to the same grantee '
    'there. Errors as auth.grant_resource_permission.';

CREATE OR REPLACE FUNCTION auth.revoke_resource_permission(
    _tenant_id     uuid,
    _resource_type text,
    _resource_id   text,
    _perm_code     text,
    _user_id       uuid DEFAULT NULL,
    _user_group_id uuid DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _permission_no integer;
BEGIN
    PERFORM auth.assert_resource_grantee(_tenant_id, _resource_type, _resource_id, _user_id, _user_group_id);
    SELECT p.permission_no INTO _permission_no
      FROM auth.permission p WHERE p.permission_id = auth.find_permission(_perm_code);
    DELETE FROM auth.resource_grant rg
     WHERE rg.tenant_id = _tenant_id AND rg.resource_type = _resource_type AND rg.resource_id = _resource_id
       AND coalesce(rg.user_id, rg.user_group_id) = coalesce(_user_id, _user_group_id)
       AND rg.permission_no = _permission_no;
    RETURN FOUND;
END;
$$;
COMMENT ON FUNCTION auth.revoke_resource_permission(uuid, text, text, text, uuid, uuid) IS
    'Removes the grant or the deny of a code on one resource to a member or a group; true when there was one. '
    'Errors as auth.grant_resource_permission: an unknown grantee, or another tenant''s, is named, not ignored.';

CREATE OR REPLACE FUNCTION auth.get_resource_grants(_tenant_id uuid, _resource_type text, _resource_id text)
RETURNS TABLE (resource_grant_id uuid, user_id uuid, username text, user_group_id uuid, user_group_code text,
               perm_code text, is_deny boolean, created_at timestamptz)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.assert_tenant(_tenant_id);
    PERFORM auth.assert_resource(_resource_type, _resource_id);
    RETURN QUERY
    SELECT rg.resource_grant_id, rg.user_id, u.username, rg.user_group_id, g.code, p.code::text, rg.is_deny, rg.created_at
      FROM auth.resource_grant rg
      JOIN auth.permission p      ON p.permission_no = rg.permission_no
      LEFT JOIN auth.user_info u  ON u.user_id = rg.user_id
      LEFT JOIN auth.user_group g ON g.user_group_id = rg.user_group_id
     WHERE rg.tenant_id = _tenant_id AND rg.resource_type = _resource_type AND rg.resource_id = _resource_id
     ORDER BY p.code::text COLLATE "C", rg.is_deny, coalesce(u.username, g.code) COLLATE "C";
END;
$$;
COMMENT ON FUNCTION auth.get_resource_grants(uuid, text, text) IS
    'The grants and denies of one resource, by code, grants before denies, then grantee. QI001, QI011, QN001.';

-- The check, on the hot path as auth.has_permission is: SECURITY INVOKER without a SET clause
-- (pinning search_path costs a GUC save and restore per call), every name schema-qualified,
-- operators and types included, so objects planted earlier on the caller's search_path are
-- never used.
CREATE OR REPLACE FUNCTION auth.has_resource_permission(
    _tenant_id     uuid,
    _user_id       uuid,
    _resource_type text,
    _resource_id   text,
    _perm_code     text)
RETURNS boolean
LANGUAGE plpgsql
STABLE
AS $$
DECLARE
    _ancestor_nos int[];
    _is_owner boolean;
    _permission_nos int[];
    _group_ids pg_catalog.uuid[];
    _denied boolean;
    _granted boolean;
BEGIN
    IF _tenant_id IS NULL OR _user_id IS NULL OR _resource_type IS NULL OR _resource_id IS NULL OR _perm_code IS NULL THEN
        RAISE EXCEPTION 'missing argument'
            USING ERRCODE = 'QI001',
                  DETAIL = '_tenant_id, _user_id, _resource_type, _resource_id and _perm_code are required.',
                  HINT = 'Pass a tenant id, a user id, a resource type and id, and a permission code.';
    END IF;
    -- The compiled catalogue (inlined, no table read); the table for a code it does not know.
    _ancestor_nos := COALESCE(auth.permission_ancestors(_perm_code), auth.lookup_permission_ancestors(_perm_code));
    -- Probe 1: live access, ownership, tenant-wide codes and active groups, in one row, by the
    -- hash index of auth.has_permission (see there).
    SELECT ea.is_owner, ea.permission_nos, ea.group_ids INTO _is_owner, _permission_nos, _group_ids
      FROM auth.effective_access ea
     WHERE pg_catalog.uuid_hash_extended(ea.user_id, pg_catalog.uuid_hash_extended(ea.tenant_id, 0))
           OPERATOR(pg_catalog.=) pg_catalog.uuid_hash_extended(_user_id, pg_catalog.uuid_hash_extended(_tenant_id, 0))
       AND pg_catalog.uuid_eq(ea.tenant_id, _tenant_id)
       AND pg_catalog.uuid_eq(ea.user_id, _user_id);
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    IF _is_owner THEN
        RETURN true;
    END IF;
    -- Probe 2: this resource's grants and denies of the code or an ancestor, to the member or
    -- one of their active groups.
    SELECT pg_catalog.bool_or(rg.is_deny), pg_catalog.bool_or(NOT rg.is_deny) INTO _denied, _granted
      FROM auth.resource_grant rg
     WHERE rg.tenant_id OPERATOR(pg_catalog.=) _tenant_id
       AND rg.resource_type OPERATOR(pg_catalog.=) _resource_type
       AND rg.resource_id OPERATOR(pg_catalog.=) _resource_id
       AND rg.permission_no OPERATOR(pg_catalog.=) ANY (_ancestor_nos)
       AND (rg.user_id OPERATOR(pg_catalog.=) _user_id OR rg.user_group_id OPERATOR(pg_catalog.=) ANY (_group_ids));
    IF _denied THEN
        RETURN false;
    END IF;
    RETURN _granted IS TRUE OR _permission_nos OPERATOR(pg_catalog.&&) _ancestor_nos;
END;
$$;
COMMENT ON FUNCTION auth.has_resource_permission(uuid, uuid, text, text, text) IS
    'True when the user may use the code on one resource: granted there (to them or an active group of theirs) or '
    'tenant-wide, and not denied there; the owner always; nobody without live access. Never writes. '
    'QI001 for a NULL argument, QI002 for a malformed code, QN003 for a code not in the catalogue.';

CREATE OR REPLACE FUNCTION auth.filter_resource_ids(
    _tenant_id     uuid,
    _user_id       uuid,
    _resource_type text,
    _resource_ids  text[],
    _perm_code     text)
RETURNS SETOF text
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    _ancestor_nos int[];
    _access auth.effective_access;
    _tenant_wide boolean;
BEGIN
    IF _tenant_id IS NULL OR _user_id IS NULL OR _resource_type IS NULL OR _resource_ids IS NULL OR _perm_code IS NULL THEN
        RAISE EXCEPTION 'missing argument'
            USING ERRCODE = 'QI001',
                  DETAIL = '_tenant_id, _user_id, _resource_type, _resource_ids and _perm_code are required.',
                  HINT = 'Pass the ids to filter as a text array (an empty array for none).';
    END IF;
    _ancestor_nos := coalesce(auth.permission_ancestors(_perm_code), auth.lookup_permission_ancestors(_perm_code));
    SELECT * INTO _access FROM auth.effective_access ea WHERE ea.tenant_id = _tenant_id AND ea.user_id = _user_id;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    _tenant_wide := _access.is_owner OR _access.permission_nos && _ancestor_nos;
    -- The ids in the order given, once each; one probe of the grants index per id.
    RETURN QUERY
    SELECT r.id
      FROM (SELECT DISTINCT ON (x.id) x.id, x.n
              FROM unnest(_resource_ids) WITH ORDINALITY AS x(id, n)
             WHERE x.id IS NOT NULL
             ORDER BY x.id, x.n) AS r
     WHERE _access.is_owner
        OR ((_tenant_wide OR EXISTS (
                 SELECT FROM auth.resource_grant rg
                  WHERE rg.tenant_id = _tenant_id AND rg.resource_type = _resource_type AND rg.resource_id = r.id
                    AND rg.permission_no = ANY (_ancestor_nos) AND NOT rg.is_deny
                    AND (rg.user_id = _user_id OR rg.user_group_id = ANY (_access.group_ids))))
            AND NOT EXISTS (
                 SELECT FROM auth.resource_grant rg
                  WHERE rg.tenant_id = _tenant_id AND rg.resource_type = _resource_type AND rg.resource_id = r.id
                    AND rg.permission_no = ANY (_ancestor_nos) AND rg.is_deny
                    AND (rg.user_id = _user_id OR rg.user_group_id = ANY (_access.group_ids))))
     ORDER BY r.n;
END;
$$;
COMMENT ON FUNCTION auth.filter_resource_ids(uuid, uuid, text, text[], text) IS
    'The ids, of those given, of the resources on which the user may use the code (as auth.has_resource_permission '
    'answers for each), in the order given, each once; for list screens. Nothing without live access. '
    'QI001, QI002, QN003.';

-- For row-level security on an application's own tables keyed by resource id, after
-- auth.set_tenant_context in the transaction:
--   CREATE POLICY documents_read ON documents FOR SELECT
--       USING (auth.can_access_resource('document', id::text, 'documents.read'));
CREATE OR REPLACE FUNCTION auth.can_access_resource(_resource_type text, _resource_id text, _perm_code text)
RETURNS boolean
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    _tenant_id uuid := auth.current_tenant_id();
    _user_id uuid := auth.current_actor();
BEGIN
    -- No context: no row. A policy must not raise for every row of a query made outside one.
    IF _tenant_id IS NULL OR _user_id IS NULL OR _resource_id IS NULL THEN
        RETURN false;
    END IF;
    RETURN auth.has_resource_permission(_tenant_id, _user_id, _resource_type, _resource_id, _perm_code);
END;
$$;
COMMENT ON FUNCTION auth.can_access_resource(text, text, text) IS
    'For row-level policies: auth.has_resource_permission for the tenant and user of auth.set_tenant_context; false '
    'outside such a context or for a NULL id. QN003 for a code not in the catalogue.';
