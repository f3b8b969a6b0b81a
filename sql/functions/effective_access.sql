-- Maintenance of auth.effective_access, the cache behind auth.has_permission.
--
-- Statement-level AFTER triggers (triggers.sql) on every table that feeds the cache find
-- the (tenant, user) pairs a statement may have affected and hand them, in one call, to
-- auth.refresh_effective_access, which recomputes those pairs set-based. This runs in the
-- same transaction as the change, so a check is right immediately after it, whether the
-- change came through a function or through direct DML. Cascaded deletes fire the child
-- tables' triggers, so a DELETE needs no special handling.
--
-- Concurrency: changes in one tenant are serialized by a transaction-level advisory lock
-- per tenant (auth.lock_tenants). A trigger takes it BEFORE it looks for the affected
-- pairs, and every statement after it runs on a fresh READ COMMITTED snapshot, so it sees
-- what the previous holder committed: e.g. a group member added concurrently with an
-- assignment to that group is refreshed by whichever of the two commits last. This relies
-- on READ COMMITTED (the default): under REPEATABLE READ the snapshot never moves, and two
-- concurrent changes in one tenant could leave a stale row.
--
-- Lock order: a tenant's lock before any row of that tenant. Every function that changes
-- access in a tenant takes the lock as its first step, before it checks or locks anything
-- (a foreign key check locks the parent row too), so two such functions in one tenant run
-- one after the other and cannot deadlock; and a function that follows a concurrent delete
-- checks afterwards, on a fresh snapshot, and raises the documented error. Functions that
-- change a user in every tenant (auth.deactivate_user) lock all the user's tenants first,
-- then the user row; several tenants are always locked in one call, sorted by key. The
-- triggers take the lock again (it is re-entrant) for direct DML, which locks its rows
-- first: the BEFORE DELETE trigger on auth.tenant_user at least takes it before the
-- membership's effective_access row is deleted by cascade, the row that any holder of the
-- lock may be refreshing. Direct DML that deletes memberships, groups, sets or tenants
-- while another transaction holds the tenant lock and then touches the same rows can still
-- deadlock (PostgreSQL detects it and fails one of them with 40P01); the functions cannot.
--
-- The trigger functions are SECURITY DEFINER so that a role allowed to write the tables
-- directly need not be allowed to write the cache.

CREATE OR REPLACE FUNCTION auth.lock_tenants(_tenant_ids uuid[])
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    -- Keys are taken in one global order (sorted by key), so two transactions locking
    -- overlapping sets of tenants in one statement cannot deadlock on them. The key is
    -- repeated in auth.tg_tenant_user_lock.
    PERFORM pg_advisory_xact_lock(k.lock_key)
       FROM (SELECT DISTINCT hashtextextended('auth.tenant:' || t.tenant_id::text, 0) AS lock_key
               FROM unnest(_tenant_ids) AS t(tenant_id)
              WHERE t.tenant_id IS NOT NULL
              ORDER BY 1) AS k;
END;
$$;
COMMENT ON FUNCTION auth.lock_tenants(uuid[]) IS
    'Internal: takes the transaction-level advisory lock that serializes changes of access in each tenant.';

CREATE OR REPLACE FUNCTION auth.tg_tenant_user_lock()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    -- Row-level: the tenant is known only from the row. PostgreSQL has locked the row by
    -- now, but nothing else is deleted yet, in particular not the member's effective_access
    -- row (by cascade), which a transaction holding this lock may be refreshing.
    -- The key of auth.lock_tenants, without its array query: this runs once per deleted row.
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('auth.tenant:' || OLD.tenant_id::text, 0));
    RETURN OLD;
END;
$$;
COMMENT ON FUNCTION auth.tg_tenant_user_lock() IS
    'Trigger (BEFORE DELETE on auth.tenant_user, row): takes the tenant lock before the membership and its '
    'cache row are deleted, whether by a function, direct DML or the cascade of a tenant or user deletion.';

CREATE OR REPLACE FUNCTION auth.refresh_effective_access(_tenant_ids uuid[], _user_ids uuid[])
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
-- Plan for the actual arrays every time: a cached generic plan assumes a handful of pairs
-- and turns a 10,000-pair refresh into a quadratic nested loop.
SET plan_cache_mode = force_custom_plan
AS $$
BEGIN
    IF coalesce(cardinality(_tenant_ids), 0) = 0 THEN
        RETURN;
    END IF;

    -- 1. Serialize with other changes of access in these tenants (see the top of this file).
    PERFORM auth.lock_tenants(_tenant_ids);

    -- 2. Recompute the pairs. Equivalent to deleting their rows and inserting one per live
    --    membership, but a row that exists and is unchanged is not rewritten: no dead
    --    tuples, and no foreign-key check (PostgreSQL skips it when an UPDATE keeps the key),
    --    which is most of the cost of rewriting 10,000 rows.
    DELETE FROM auth.effective_access ea
     USING unnest(_tenant_ids, _user_ids) AS pair(tenant_id, user_id)
     WHERE ea.tenant_id = pair.tenant_id
       AND ea.user_id = pair.user_id
       AND NOT EXISTS (SELECT FROM auth.tenant_user tu
                         JOIN auth.tenant t    ON t.tenant_id = tu.tenant_id
                         JOIN auth.user_info u ON u.user_id = tu.user_id
                        WHERE tu.tenant_id = ea.tenant_id AND tu.user_id = ea.user_id
                          AND tu.is_active AND t.is_active AND u.is_active);

    INSERT INTO auth.effective_access AS ea (tenant_id, user_id, is_owner, permission_nos)
    SELECT tu.tenant_id,
           tu.user_id,
           EXISTS (SELECT FROM auth.owner o
                    WHERE o.tenant_id = tu.tenant_id AND o.user_id = tu.user_id AND o.user_group_id IS NULL),
           granted.permission_nos
      FROM (SELECT DISTINCT x.tenant_id, x.user_id
              FROM unnest(_tenant_ids, _user_ids) AS x(tenant_id, user_id)) AS pair
      JOIN auth.tenant_user tu ON tu.tenant_id = pair.tenant_id AND tu.user_id = pair.user_id
      JOIN auth.tenant t       ON t.tenant_id = tu.tenant_id
      JOIN auth.user_info u    ON u.user_id = tu.user_id
     CROSS JOIN LATERAL (
            -- The codes of the member's own assignments and of those of the active groups
            -- the member is in: a set contributes each of its codes. LATERAL keeps this to a
            -- few index lookups per member whatever the statistics say (they are often stale
            -- right after the bulk change that fired the refresh).
            -- Each code's number by primary key, as a scalar subquery: joined instead, the
            -- planner may hash the whole catalogue once per member.
            SELECT coalesce(array_agg(DISTINCT (SELECT p.permission_no FROM auth.permission p
                                                 WHERE p.permission_id = coalesce(grant_row.permission_id, sp.permission_id))),
                            '{}') AS permission_nos
              FROM (SELECT a.perm_set_id, a.permission_id
                      FROM auth.permission_assignment a
                     WHERE a.tenant_id = tu.tenant_id AND a.user_id = tu.user_id
                    UNION ALL
                    SELECT a.perm_set_id, a.permission_id
                      FROM auth.user_group_member m
                      JOIN auth.user_group g            ON g.user_group_id = m.user_group_id AND g.is_active
                      JOIN auth.permission_assignment a ON a.tenant_id = m.tenant_id AND a.user_group_id = m.user_group_id
                     WHERE m.tenant_id = tu.tenant_id AND m.user_id = tu.user_id) AS grant_row
              LEFT JOIN auth.perm_set_permission sp ON sp.perm_set_id = grant_row.perm_set_id
             WHERE coalesce(grant_row.permission_id, sp.permission_id) IS NOT NULL  -- an empty set grants nothing
           ) AS granted
     WHERE tu.is_active AND t.is_active AND u.is_active
    ON CONFLICT (tenant_id, user_id) DO UPDATE
       SET is_owner = EXCLUDED.is_owner,
           permission_nos = EXCLUDED.permission_nos
     WHERE (ea.is_owner, ea.permission_nos) IS DISTINCT FROM (EXCLUDED.is_owner, EXCLUDED.permission_nos);
END;
$$;
COMMENT ON FUNCTION auth.refresh_effective_access(uuid[], uuid[]) IS
    'Internal: recomputes auth.effective_access for the (tenant, user) pairs given as two parallel '
    'arrays, after locking each tenant. Called by triggers; safe to call by hand to repair the cache.';

-- Trigger functions, one per kind of source -------------------------------------------
-- Each locks the tenants concerned first, then finds the affected pairs, then refreshes.

CREATE OR REPLACE FUNCTION auth.tg_refresh_pairs()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    -- For owner and user_group_member, whose rows name the affected pairs themselves (so
    -- finding them needs no lock; the refresh takes it). Transition tables exist only for
    -- the events that have them, hence one query per event.
    IF TG_OP = 'INSERT' THEN
        PERFORM auth.refresh_effective_access(array_agg(n.tenant_id), array_agg(n.user_id))
           FROM new_rows n;
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM auth.refresh_effective_access(array_agg(o.tenant_id), array_agg(o.user_id))
           FROM old_rows o;
    ELSE
        PERFORM auth.refresh_effective_access(array_agg(x.tenant_id), array_agg(x.user_id))
           FROM (SELECT n.tenant_id, n.user_id FROM new_rows n
                 UNION
                 SELECT o.tenant_id, o.user_id FROM old_rows o) AS x;
    END IF;
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION auth.tg_refresh_pairs() IS
    'Trigger (statement, transition tables new_rows/old_rows): refreshes the (tenant_id, user_id) pairs of the changed rows.';

CREATE OR REPLACE FUNCTION auth.tg_tenant_user_refresh()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- A new membership is invisible to a concurrent (de)activation of its user, which
        -- therefore does not lock this tenant. A share lock on the user row makes one of
        -- the two wait for the other, so the later one sees the other's change.
        PERFORM FROM auth.user_info u WHERE u.user_id IN (SELECT n.user_id FROM new_rows n) FOR SHARE;
        PERFORM auth.refresh_effective_access(array_agg(n.tenant_id), array_agg(n.user_id))
           FROM new_rows n;
    ELSE
        PERFORM auth.refresh_effective_access(array_agg(x.tenant_id), array_agg(x.user_id))
           FROM (SELECT n.tenant_id, n.user_id FROM new_rows n
                 UNION
                 SELECT o.tenant_id, o.user_id FROM old_rows o) AS x;
    END IF;
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION auth.tg_tenant_user_refresh() IS
    'Trigger (AFTER INSERT/UPDATE on auth.tenant_user, statement): refreshes the changed memberships. '
    'Deletes need none: effective_access rows cascade.';

CREATE OR REPLACE FUNCTION auth.tg_tenant_refresh()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _tenant_ids uuid[];
BEGIN
    -- Only is_active matters; other updates (name, code) skip the refresh.
    _tenant_ids := ARRAY(SELECT n.tenant_id
                           FROM new_rows n
                           JOIN old_rows o ON o.tenant_id = n.tenant_id
                          WHERE n.is_active IS DISTINCT FROM o.is_active);
    PERFORM auth.lock_tenants(_tenant_ids);
    PERFORM auth.refresh_effective_access(array_agg(tu.tenant_id), array_agg(tu.user_id))
       FROM auth.tenant_user tu
      WHERE tu.tenant_id = ANY (_tenant_ids);
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION auth.tg_tenant_refresh() IS
    'Trigger (AFTER UPDATE on auth.tenant, statement): refreshes every member of tenants whose is_active changed.';

CREATE OR REPLACE FUNCTION auth.tg_user_info_refresh()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _user_ids uuid[];
BEGIN
    _user_ids := ARRAY(SELECT n.user_id
                         FROM new_rows n
                         JOIN old_rows o ON o.user_id = n.user_id
                        WHERE n.is_active IS DISTINCT FROM o.is_active);
    IF cardinality(_user_ids) = 0 THEN
        RETURN NULL;
    END IF;
    PERFORM auth.lock_tenants(ARRAY(SELECT tu.tenant_id FROM auth.tenant_user tu WHERE tu.user_id = ANY (_user_ids)));
    PERFORM auth.refresh_effective_access(array_agg(tu.tenant_id), array_agg(tu.user_id))
       FROM auth.tenant_user tu
      WHERE tu.user_id = ANY (_user_ids);
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION auth.tg_user_info_refresh() IS
    'Trigger (AFTER UPDATE on auth.user_info, statement): refreshes every membership of users whose is_active changed.';

CREATE OR REPLACE FUNCTION auth.tg_user_group_refresh()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _groups auth.user_group[];
BEGIN
    _groups := ARRAY(SELECT n::auth.user_group
                       FROM new_rows n
                       JOIN old_rows o ON o.user_group_id = n.user_group_id
                      WHERE n.is_active IS DISTINCT FROM o.is_active);
    PERFORM auth.lock_tenants(ARRAY(SELECT g.tenant_id FROM unnest(_groups) g));
    PERFORM auth.refresh_effective_access(array_agg(m.tenant_id), array_agg(m.user_id))
       FROM unnest(_groups) g
       JOIN auth.user_group_member m ON m.user_group_id = g.user_group_id;
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION auth.tg_user_group_refresh() IS
    'Trigger (AFTER UPDATE on auth.user_group, statement): refreshes the members of groups whose is_active changed.';

CREATE OR REPLACE FUNCTION auth.tg_permission_assignment_refresh()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _rows auth.permission_assignment[] := '{}';
BEGIN
    IF TG_OP <> 'DELETE' THEN
        _rows := ARRAY(SELECT n::auth.permission_assignment FROM new_rows n);
    END IF;
    IF TG_OP <> 'INSERT' THEN
        _rows := _rows || ARRAY(SELECT o::auth.permission_assignment FROM old_rows o);
    END IF;
    PERFORM auth.lock_tenants(ARRAY(SELECT r.tenant_id FROM unnest(_rows) r));
    -- The assigned user, or every member of the assigned group.
    PERFORM auth.refresh_effective_access(array_agg(x.tenant_id), array_agg(x.user_id))
       FROM (SELECT r.tenant_id, r.user_id
               FROM unnest(_rows) r
              WHERE r.user_id IS NOT NULL
             UNION
             SELECT m.tenant_id, m.user_id
               FROM unnest(_rows) r
               JOIN auth.user_group_member m ON m.user_group_id = r.user_group_id) AS x;
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION auth.tg_permission_assignment_refresh() IS
    'Trigger (statement): refreshes the users reached by the changed assignments, directly or through their group.';

CREATE OR REPLACE FUNCTION auth.tg_perm_set_permission_refresh()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _perm_set_ids uuid[] := '{}';
BEGIN
    IF TG_OP <> 'DELETE' THEN
        _perm_set_ids := ARRAY(SELECT DISTINCT n.perm_set_id FROM new_rows n);
    END IF;
    IF TG_OP <> 'INSERT' THEN
        _perm_set_ids := _perm_set_ids || ARRAY(SELECT DISTINCT o.perm_set_id FROM old_rows o);
    END IF;
    -- Templates have no tenant and no assignments: nothing to lock or refresh for them.
    PERFORM auth.lock_tenants(ARRAY(SELECT ps.tenant_id FROM auth.perm_set ps WHERE ps.perm_set_id = ANY (_perm_set_ids)));
    -- Everyone the changed sets are assigned to, directly or through a group.
    PERFORM auth.refresh_effective_access(array_agg(x.tenant_id), array_agg(x.user_id))
       FROM (SELECT a.tenant_id, a.user_id
               FROM auth.permission_assignment a
              WHERE a.perm_set_id = ANY (_perm_set_ids) AND a.user_id IS NOT NULL
             UNION
             SELECT m.tenant_id, m.user_id
               FROM auth.permission_assignment a
               JOIN auth.user_group_member m ON m.user_group_id = a.user_group_id
              WHERE a.perm_set_id = ANY (_perm_set_ids)) AS x;
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION auth.tg_perm_set_permission_refresh() IS
    'Trigger (statement): refreshes every user reached by assignments of the changed sets.';
