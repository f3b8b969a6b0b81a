-- Maintenance of auth.effective_access, the cache behind auth.has_permission.
--
-- Statement-level AFTER triggers (triggers.sql) on every table that feeds the cache find
-- the (tenant, user) pairs a statement may have affected and hand them, in one call, to
-- auth.refresh_effective_access, which recomputes those pairs set-based. This runs in the
-- same transaction as the change, so a check is right immediately after it, whether the
-- change came through a function or through direct DML. Cascaded deletes fire the child
-- tables' triggers, so a DELETE needs no special handling.
--
-- Concurrency, at every isolation level. Every change of access in a tenant first stamps
-- the tenant (auth.lock_tenants: an UPDATE of its row in auth.access_stamp, migration 0005).
-- - READ COMMITTED: the stamp's row lock serializes changes in one tenant, and every
--   statement after it runs on a fresh snapshot, so it sees what the previous holder
--   committed: e.g. a group member added concurrently with an assignment to that group is
--   refreshed by whichever of the two commits last.
-- - REPEATABLE READ and SERIALIZABLE: the snapshot never moves, so a change that waited for
--   another, or started before another committed, would compute from rows that miss the
--   other's change. PostgreSQL refuses the stamp's UPDATE with 40001 (serialization_failure)
--   in exactly that case (the row was updated by a transaction the snapshot does not see),
--   and the application retries, as it must for any 40001. A change that stamps without
--   error computes from a snapshot that holds every committed change of its tenants.
-- Changes that span tenants: (de)activating a user stamps the user (auth.lock_users) and
-- every tenant the user belongs to; a new membership stamps its user and its tenant. The
-- user's stamp is what makes a membership that a deactivation could not see (committed
-- after its snapshot, or not yet) conflict with it.
-- Chosen over an advisory lock plus an isolation-level test because PostgreSQL already
-- knows which writers raced; the cost is one small HOT update per scope and transaction
-- (README, Measured).
--
-- Lock order, the same in every function:
--   1. the stamps of the users concerned,
--   2. the stamps of the tenants concerned,
--   3. the rows of those tenants (and the users' rows); the catalogue's stamp, last of
--      all, by the rebuild that follows a change of the catalogue (permission_lookup.sql).
-- Several scopes of one kind are stamped in one statement, sorted by key, so two
-- transactions stamping overlapping sets wait for each other at the first common scope.
-- - Every function that changes access in one tenant stamps it as its first step, before
--   it checks or locks anything (a foreign key check locks the parent row too), so two
--   such functions in one tenant run one after the other and cannot deadlock; and a
--   function that follows a concurrent delete checks afterwards, on a fresh snapshot, and
--   raises the documented error.
-- - A function that adds a membership (auth.add_user_to_tenant, assign_tenant_owner,
--   transfer_tenant_ownership, create_tenant with an owner) stamps the user, then the
--   tenant, then writes.
-- - A function that changes a user in every tenant (auth.deactivate_user, activate_user,
--   delete_user) stamps the user, then lists the user's tenants and stamps them. The user
--   comes first because the tenants are known only from the memberships: no new
--   membership of the user can commit while its stamp is held, so a list read after it is
--   the one the trigger on auth.user_info (or the cascade of a delete) finds again. A list
--   read before it could miss a membership committed in between; the trigger then stamped
--   that tenant after the user's stamp and after the other tenants' (sorted or not), and a
--   transaction holding that tenant's stamp and waiting for one of ours, such as a
--   (de)activation of another member of both tenants, deadlocked with it (40P01).
-- - auth.delete_permission finds its tenants from the uses of the code, which only the
--   lock on the code's rows (taken after the stamps) stops: it lists them again under that
--   lock and, when one is missing, gives its stamps and locks back and takes them again.
-- A transaction that calls several functions takes their stamps call after call; one that
-- changes access in several scopes should call them in this order too, or retry on 40P01.
-- The triggers stamp again, in the same order (a second stamp in one transaction writes
-- nothing), for direct DML, which locks its rows first: the BEFORE DELETE trigger on
-- auth.tenant_user at least stamps the tenant before the membership's effective_access row
-- is deleted by cascade, the row that any holder of the stamp may be refreshing. Direct DML
-- that deletes memberships, groups, sets, tenants or users, or inserts memberships (its
-- foreign key check locks the user's row before the trigger stamps the user), while
-- another transaction holds a stamp it needs and then touches the same rows can still
-- deadlock (PostgreSQL detects it and fails one of them with 40P01); the functions cannot.
--
-- The trigger functions are SECURITY DEFINER so that a role allowed to write the tables
-- directly need not be allowed to write the cache.

CREATE OR REPLACE FUNCTION auth.stamp_access(_scope_ids uuid[])
RETURNS void
LANGUAGE sql
SECURITY DEFINER
SET search_path = ''
AS $$
    -- Sorted, so transactions stamping overlapping scopes in one statement cannot deadlock.
    -- A row this transaction already stamped is locked but not rewritten (WHERE below): a
    -- statement trigger fires once per statement, and a bulk change of 100,000 rows
    -- through a row trigger would otherwise leave a chain of 100,000 versions of one row.
    -- The lock itself, and the 40001 of a raced REPEATABLE READ writer, come before WHERE.
    INSERT INTO auth.access_stamp AS s (scope_id)
    SELECT DISTINCT x.scope_id
      FROM unnest(_scope_ids) AS x(scope_id)
     WHERE x.scope_id IS NOT NULL
     ORDER BY 1
    ON CONFLICT (scope_id) DO UPDATE
       SET changes = s.changes + 1
     WHERE s.xmin OPERATOR(pg_catalog.<>) pg_catalog.pg_current_xact_id()::pg_catalog.xid;
$$;
COMMENT ON FUNCTION auth.stamp_access(uuid[]) IS
    'Internal: stamps the scopes (tenant ids, user ids, or the nil uuid for the catalogue) in auth.access_stamp, '
    'waiting for concurrent changes of them; 40001 under REPEATABLE READ or SERIALIZABLE when one committed after '
    'the snapshot.';

CREATE OR REPLACE FUNCTION auth.lock_tenants(_tenant_ids uuid[])
RETURNS void
LANGUAGE sql
SET search_path = ''
AS $$
    SELECT auth.stamp_access(_tenant_ids);
$$;
COMMENT ON FUNCTION auth.lock_tenants(uuid[]) IS
    'Internal: stamps each tenant, which serializes changes of access in it (see auth.stamp_access).';

CREATE OR REPLACE FUNCTION auth.lock_users(_user_ids uuid[])
RETURNS void
LANGUAGE sql
SET search_path = ''
AS $$
    SELECT auth.stamp_access(_user_ids);
$$;
COMMENT ON FUNCTION auth.lock_users(uuid[]) IS
    'Internal: stamps each user, which serializes a user''s (de)activation with new memberships of the user.';

CREATE OR REPLACE FUNCTION auth.tg_tenant_user_lock()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER  -- the stamp is internal: an administrator's direct DELETE may not call it itself
SET search_path = ''
AS $$
BEGIN
    -- Row-level: the tenant is known only from the row. PostgreSQL has locked the row by
    -- now, but nothing else is deleted yet, in particular not the member's effective_access
    -- row (by cascade), which a transaction holding the stamp may be refreshing.
    PERFORM auth.lock_tenants(ARRAY[OLD.tenant_id]);
    RETURN OLD;
END;
$$;
COMMENT ON FUNCTION auth.tg_tenant_user_lock() IS
    'Trigger (BEFORE DELETE on auth.tenant_user, row): stamps the tenant before the membership and its '
    'cache row are deleted, whether by a function, direct DML or the cascade of a tenant or user deletion.';

CREATE OR REPLACE FUNCTION auth.tg_access_stamp_forget()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    -- After the statement, so after the cascades whose triggers stamped the deleted rows.
    IF TG_TABLE_NAME = 'tenant' THEN
        DELETE FROM auth.access_stamp s USING old_rows o WHERE s.scope_id = o.tenant_id;
    ELSE
        DELETE FROM auth.access_stamp s USING old_rows o WHERE s.scope_id = o.user_id;
    END IF;
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION auth.tg_access_stamp_forget() IS
    'Trigger (AFTER DELETE on auth.tenant and auth.user_info, statement): deletes the stamps of deleted tenants and users.';

CREATE OR REPLACE FUNCTION auth.refresh_effective_access(_tenant_ids uuid[], _user_ids uuid[])
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
-- Plan for the actual arrays every time: a cached generic plan assumes a handful of pairs
-- and turns a 10,000-pair refresh into a quadratic nested loop.
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    _written_tenant_ids uuid[];
    _written_user_ids uuid[];
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
                          AND tu.is_active AND t.is_active AND t.deleted_at IS NULL AND u.is_active);

    -- 3. Tell listeners at commit which rows were written (functions/notifications.sql): the
    --    statement returns exactly the rows it inserted or changed. Deleted rows are told by
    --    the trigger on auth.effective_access, which also sees the deletes of cascades.
    WITH written AS (
    INSERT INTO auth.effective_access AS ea (tenant_id, user_id, is_owner, permission_nos, group_ids)
    SELECT tu.tenant_id,
           tu.user_id,
           EXISTS (SELECT FROM auth.owner o
                    WHERE o.tenant_id = tu.tenant_id AND o.user_id = tu.user_id AND o.user_group_id IS NULL),
           granted.permission_nos,
           -- The active groups the member is in: whose resource grants reach the member.
           ARRAY(SELECT m.user_group_id
                   FROM auth.user_group_member m
                   JOIN auth.user_group g ON g.user_group_id = m.user_group_id AND g.is_active
                  WHERE m.tenant_id = tu.tenant_id AND m.user_id = tu.user_id
                  ORDER BY m.user_group_id)
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
     WHERE tu.is_active AND t.is_active AND t.deleted_at IS NULL AND u.is_active
    ON CONFLICT (tenant_id, user_id) DO UPDATE
       SET is_owner = EXCLUDED.is_owner,
           permission_nos = EXCLUDED.permission_nos,
           group_ids = EXCLUDED.group_ids
     WHERE (ea.is_owner, ea.permission_nos, ea.group_ids)
           IS DISTINCT FROM (EXCLUDED.is_owner, EXCLUDED.permission_nos, EXCLUDED.group_ids)
    RETURNING ea.tenant_id, ea.user_id
    )
    SELECT array_agg(w.tenant_id), array_agg(w.user_id) INTO _written_tenant_ids, _written_user_ids FROM written w;
    IF _written_tenant_ids IS NOT NULL THEN
        PERFORM auth.notify_access_change(_written_tenant_ids, _written_user_ids);
    END IF;
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
        -- therefore does not stamp this tenant. Both stamp the user (before the tenant: see
        -- the lock order above), so one waits for the other and sees its change, or fails
        -- with 40001 under REPEATABLE READ. The functions have stamped both already.
        PERFORM auth.lock_users(ARRAY(SELECT n.user_id FROM new_rows n));
        PERFORM auth.lock_tenants(ARRAY(SELECT n.tenant_id FROM new_rows n));
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
    -- Only is_active and deleted_at matter; other updates (name, code) skip the refresh.
    _tenant_ids := ARRAY(SELECT n.tenant_id
                           FROM new_rows n
                           JOIN old_rows o ON o.tenant_id = n.tenant_id
                          WHERE n.is_active IS DISTINCT FROM o.is_active
                             OR n.deleted_at IS DISTINCT FROM o.deleted_at);
    PERFORM auth.lock_tenants(_tenant_ids);
    PERFORM auth.refresh_effective_access(array_agg(tu.tenant_id), array_agg(tu.user_id))
       FROM auth.tenant_user tu
      WHERE tu.tenant_id = ANY (_tenant_ids);
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION auth.tg_tenant_refresh() IS
    'Trigger (AFTER UPDATE on auth.tenant, statement): refreshes every member of tenants whose is_active or deleted_at changed.';

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
    -- The user's stamp before listing the memberships (the lock order above): a membership
    -- added concurrently is then either committed and listed (READ COMMITTED), or the cause
    -- of a 40001. Through auth.(de)activate_user both stamps are held already.
    PERFORM auth.lock_users(_user_ids);
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
