-- Why a user holds a permission, or why not.
--
-- auth.has_permission answers from auth.effective_access, which keeps the result and not its
-- reasons; this reads the source tables and applies the same rules (README, "The rules").
-- It is for people (an administrator asking "why"), not for the hot path.

CREATE OR REPLACE FUNCTION auth.explain_permission(_tenant_id uuid, _user_id uuid, _perm_code text)
RETURNS TABLE (granted boolean, path text, reason text, user_group_id uuid, user_group_code text,
               perm_set_id uuid, perm_set_code text, granted_code text, assignment_id uuid)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _ancestor_nos integer[];
    _tenant_active boolean;
    _user_active boolean;
    _membership_active boolean;
    _blockers text[];
BEGIN
    -- The code first, with the errors of auth.has_permission (QI001, QI002, QN003).
    _ancestor_nos := auth.lookup_permission_ancestors(_perm_code);
    PERFORM auth.assert_tenant(_tenant_id);
    PERFORM auth.assert_user(_user_id);

    SELECT t.is_active INTO _tenant_active FROM auth.tenant t WHERE t.tenant_id = _tenant_id;
    SELECT u.is_active INTO _user_active FROM auth.user_info u WHERE u.user_id = _user_id;
    SELECT tu.is_active INTO _membership_active
      FROM auth.tenant_user tu WHERE tu.tenant_id = _tenant_id AND tu.user_id = _user_id;
    -- What stops every path at once, in this order; none for a live membership.
    _blockers := array_remove(ARRAY[
        CASE WHEN NOT _tenant_active THEN 'tenant_inactive' END,
        CASE WHEN NOT _user_active THEN 'user_inactive' END,
        CASE WHEN _membership_active IS NULL THEN 'not_member'
             WHEN NOT _membership_active THEN 'membership_inactive' END], NULL);

    RETURN QUERY
    WITH paths AS (
        -- Ownership of the tenant.
        SELECT 1 AS rank, 'owner' AS path, NULL::uuid AS user_group_id, NULL::text AS user_group_code,
               true AS group_active, NULL::uuid AS perm_set_id, NULL::text AS perm_set_code,
               NULL::text AS granted_code, NULL::uuid AS assignment_id
          FROM auth.owner o
         WHERE o.tenant_id = _tenant_id AND o.user_id = _user_id AND o.user_group_id IS NULL
        UNION ALL
        -- Assignments to the user or to a group the user is in (active or not), of the code or
        -- an ancestor, alone or in a set: one row per granting code of a set.
        SELECT CASE WHEN a.user_group_id IS NULL THEN 2 ELSE 4 END
                 + CASE WHEN a.perm_set_id IS NULL THEN 1 ELSE 0 END,
               CASE WHEN a.user_group_id IS NULL THEN 'direct_' ELSE 'group_' END
                 || CASE WHEN a.perm_set_id IS NULL THEN 'code' ELSE 'set' END,
               a.user_group_id, g.code, coalesce(g.is_active, true),
               a.perm_set_id, ps.code, p.code::text, a.assignment_id
          FROM auth.permission_assignment a
          LEFT JOIN auth.user_group g ON g.user_group_id = a.user_group_id
          LEFT JOIN auth.perm_set ps ON ps.perm_set_id = a.perm_set_id
          LEFT JOIN auth.perm_set_permission sp ON sp.perm_set_id = a.perm_set_id
          JOIN auth.permission p ON p.permission_id = coalesce(a.permission_id, sp.permission_id)
         WHERE a.tenant_id = _tenant_id
           AND p.permission_no = ANY (_ancestor_nos)
           AND (a.user_id = _user_id
                OR a.user_group_id IN (SELECT m.user_group_id FROM auth.user_group_member m
                                        WHERE m.tenant_id = _tenant_id AND m.user_id = _user_id))),
    judged AS (
        SELECT x.*,
               x.group_active AND cardinality(_blockers) = 0 AS grants,
               -- The path's own fault first: it remains when the membership is live again.
               CASE WHEN NOT x.group_active THEN 'group_inactive' ELSE _blockers[1] END AS reason
          FROM paths x),
    answer AS (
        -- Granted: the paths that grant. Denied: what stops the membership, then every path
        -- with what stops it, then 'no_grant' when there is no path at all.
        SELECT j.rank, j.grants, j.path, NULL::text AS reason, j.user_group_id, j.user_group_code,
               j.perm_set_id, j.perm_set_code, j.granted_code, j.assignment_id
          FROM judged j
         WHERE j.grants
        UNION ALL
        SELECT 0, false, NULL, b.reason, NULL, NULL, NULL, NULL, NULL, NULL
          FROM unnest(_blockers) WITH ORDINALITY AS b(reason, n)
         WHERE NOT EXISTS (SELECT FROM judged j WHERE j.grants)
        UNION ALL
        SELECT j.rank, false, j.path, j.reason, j.user_group_id, j.user_group_code,
               j.perm_set_id, j.perm_set_code, j.granted_code, j.assignment_id
          FROM judged j
         WHERE NOT EXISTS (SELECT FROM judged k WHERE k.grants)
        UNION ALL
        SELECT 9, false, NULL, 'no_grant', NULL, NULL, NULL, NULL, NULL, NULL
         WHERE NOT EXISTS (SELECT FROM judged j))
    SELECT r.grants, r.path, r.reason, r.user_group_id, r.user_group_code,
           r.perm_set_id, r.perm_set_code, r.granted_code, r.assignment_id
      FROM answer r
     ORDER BY r.rank, array_position(_blockers, r.reason), r.user_group_code COLLATE "C", r.perm_set_code COLLATE "C",
              r.granted_code COLLATE "C", r.assignment_id;
END;
$$;
COMMENT ON FUNCTION auth.explain_permission(uuid, uuid, text) IS
    'Why auth.has_permission answers as it does for (tenant, user, code). Granted: one row per path that grants the '
    'code (granted true): path owner, direct_set, direct_code, group_set or group_code, with the group, the set, the '
    'code held (the code asked or an ancestor) and the assignment. Denied (granted false): a row for each of '
    'tenant_inactive, user_inactive, not_member, membership_inactive that holds (path NULL), a row for every path '
    'with its reason (group_inactive, or what stops the membership), and no_grant when there is no path. '
    'QI001, QI002, QN003 for the code as auth.has_permission; QN001, QN002 for an unknown tenant or user.';
