-- The cost of a change of rights, and of a bulk load, on a fresh database with the auth
-- schema (psql -X -f scripts/write-cost.sql -d DB). Used for the README's "Changes at every
-- isolation level" numbers; run it on a checkout before and after a change to compare.
\timing on
SELECT auth.create_permission('users.view', 'View users') \g /dev/null
SELECT auth.create_permission('users.edit', 'Edit users') \g /dev/null
\echo bulk load: 20,000 users, 100 tenants, their memberships, one direct assignment each
INSERT INTO auth.user_info (username) SELECT 'u' || g FROM generate_series(1, 20000) g;
INSERT INTO auth.tenant (name, code) SELECT 'T' || g, 'T' || g FROM generate_series(1, 100) g;
INSERT INTO auth.tenant_user (tenant_id, user_id)
SELECT t.tenant_id, u.user_id FROM auth.tenant t
  JOIN auth.user_info u ON (hashtext(u.username) & 2147483647) % 100 = (substr(t.code, 2)::int - 1);
INSERT INTO auth.permission_assignment (tenant_id, user_id, permission_id)
SELECT tu.tenant_id, tu.user_id, (SELECT permission_id FROM auth.permission WHERE code::text = 'users.view')
  FROM auth.tenant_user tu;
\echo 2,000 assign_permission calls in one transaction
DO $$ DECLARE r record; BEGIN
    FOR r IN SELECT tenant_id, user_id FROM auth.tenant_user LIMIT 2000 LOOP
        PERFORM auth.assign_permission(r.tenant_id, r.user_id, NULL, NULL, 'users.edit');
    END LOOP;
END $$;
\echo 1,000 unassign_permission calls, one transaction each
\timing off
\pset tuples_only on
\pset format unaligned
SELECT format('SELECT auth.unassign_permission(%L, %L, NULL, NULL, %L);', tenant_id, user_id, 'users.edit')
  FROM auth.tenant_user LIMIT 1000 \g /tmp/pgperm-write-cost-calls.sql
\pset tuples_only off
\pset format aligned
SELECT clock_timestamp() AS started \gset
\o /dev/null
\i /tmp/pgperm-write-cost-calls.sql
\o
SELECT round(extract(epoch FROM clock_timestamp() - :'started'::timestamptz) * 1000) AS "1,000 calls, ms";
\timing on
\echo 200,000 checks in one loop
DO $$ DECLARE t uuid; u uuid; b boolean; BEGIN
    SELECT tenant_id, user_id INTO t, u FROM auth.tenant_user LIMIT 1;
    FOR i IN 1..200000 LOOP b := auth.has_permission(t, u, 'users.view'); END LOOP;
END $$;
