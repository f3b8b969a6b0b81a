-- Change events: LISTEN auth_access_changed to learn, at commit, that checks may answer
-- differently (the Swift PermissionCache keeps its in-process copy coherent this way).
--
-- A check reads two things: the member's row of auth.effective_access and the compiled
-- catalogue, so their writers say what they changed, whatever started it (a function, direct
-- DML on the source tables, a cascade): auth.refresh_effective_access, the only writer of
-- effective_access rows, notifies the rows its INSERT ... RETURNING wrote; a statement
-- trigger on effective_access notifies deleted rows (cascades included) and TRUNCATE; a
-- statement trigger on auth.permission notifies the catalogue. No INSERT/UPDATE trigger with
-- transition tables: it costs a trigger call per statement even when nothing changed, about
-- 10% of a single assign_permission (measured), where RETURNING costs next to nothing.
-- Repair effective_access with auth.refresh_effective_access, not by hand, so listeners
-- hear of it. pg_notify queues the
-- notification in the transaction and PostgreSQL sends it at COMMIT, never for a rollback;
-- identical notifications of one transaction are sent once. Checks and read-only
-- transactions fire nothing. Replicas cannot LISTEN; a cache reads from the primary's
-- notifications.
--
-- Payloads are JSON objects, one per tenant and statement:
--   {"tenant_id": "<uuid>", "user_ids": ["<uuid>", ...]}   these members' rows changed
--   {"tenant_id": "<uuid>"}                                 many members changed: the whole tenant
--   {"catalogue": true}                                     the catalogue changed
--   {"all": true}                                           auth.effective_access was truncated
-- Users are listed while a tenant has at most 20 changed rows in the statement (a payload of
-- about 1 kB); a bulk statement names each tenant once, so a load of 100,000 members sends
-- one notification per tenant, not per member.

CREATE OR REPLACE FUNCTION auth.notify_access_change(_tenant_ids uuid[], _user_ids uuid[])
RETURNS void
LANGUAGE sql
-- No SET clause (a GUC save and restore on every call, and no inlining): every name is
-- schema-qualified instead, as in auth.has_permission.
AS $$
    -- One notification per tenant; users sorted, so equal changes give equal payloads, which
    -- PostgreSQL sends once per transaction.
    SELECT pg_catalog.pg_notify('auth_access_changed',
               CASE WHEN pg_catalog.count(*) OPERATOR(pg_catalog.<=) 20
                    THEN pg_catalog.json_build_object('tenant_id', pair.tenant_id,
                             'user_ids', pg_catalog.array_agg(DISTINCT pair.user_id ORDER BY pair.user_id))
                    ELSE pg_catalog.json_build_object('tenant_id', pair.tenant_id)
               END::pg_catalog.text)
      FROM ROWS FROM (pg_catalog.unnest(_tenant_ids), pg_catalog.unnest(_user_ids)) AS pair(tenant_id, user_id)
     GROUP BY pair.tenant_id;
$$;
COMMENT ON FUNCTION auth.notify_access_change(uuid[], uuid[]) IS
    'Internal: notifies auth_access_changed (at commit) once per tenant of the (tenant, user) pairs, naming the '
    'users while there are at most 20. Called by auth.refresh_effective_access for the rows it writes, and by '
    'the trigger on auth.effective_access for deleted rows.';

CREATE OR REPLACE FUNCTION auth.tg_effective_access_notify()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_catalog.pg_notify('auth_access_changed', '{"all": true}');
    ELSIF EXISTS (SELECT FROM old_rows) THEN
        PERFORM auth.notify_access_change(array_agg(o.tenant_id), array_agg(o.user_id)) FROM old_rows o;
    END IF;
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION auth.tg_effective_access_notify() IS
    'Trigger (AFTER DELETE/TRUNCATE on auth.effective_access, statement): notifies auth_access_changed at commit '
    'naming the deleted rows (whether auth.refresh_effective_access or a cascade deleted them), or everything.';

CREATE OR REPLACE FUNCTION auth.tg_permission_notify()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    PERFORM pg_catalog.pg_notify('auth_access_changed', '{"catalogue": true}');
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION auth.tg_permission_notify() IS
    'Trigger (AFTER INSERT/UPDATE/DELETE/TRUNCATE on auth.permission, statement): notifies '
    'auth_access_changed at commit that the catalogue changed.';
