-- Change events: LISTEN auth_access_changed to learn, at commit, that checks may answer
-- differently (the Swift PermissionCache keeps its in-process copy coherent this way).
--
-- A check reads two things: the member's row of auth.effective_access and the compiled
-- catalogue. Statement-level triggers on those two tables (triggers.sql) therefore see every
-- change of any answer, whatever made it: a function, direct DML on the source tables (whose
-- own triggers refresh effective_access), a cascade, a repair by hand. pg_notify queues the
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

CREATE OR REPLACE FUNCTION auth.tg_effective_access_notify()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    _tenant_ids uuid[];
    _user_ids uuid[];
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_catalog.pg_notify('auth_access_changed', '{"all": true}');
        RETURN NULL;
    END IF;
    -- Transition tables exist only for the events that have them, hence one query per event.
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(n.tenant_id), array_agg(n.user_id) INTO _tenant_ids, _user_ids FROM new_rows n;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(o.tenant_id), array_agg(o.user_id) INTO _tenant_ids, _user_ids FROM old_rows o;
    ELSE
        SELECT array_agg(x.tenant_id), array_agg(x.user_id) INTO _tenant_ids, _user_ids
          FROM (SELECT n.tenant_id, n.user_id FROM new_rows n
                UNION
                SELECT o.tenant_id, o.user_id FROM old_rows o) AS x;
    END IF;
    -- One notification per tenant; users sorted, so equal changes give equal payloads, which
    -- PostgreSQL sends once per transaction.
    PERFORM pg_catalog.pg_notify('auth_access_changed',
                CASE WHEN pg_catalog.count(*) OPERATOR(pg_catalog.<=) 20
                     THEN pg_catalog.json_build_object('tenant_id', pair.tenant_id,
                              'user_ids', pg_catalog.array_agg(DISTINCT pair.user_id ORDER BY pair.user_id))
                     ELSE pg_catalog.json_build_object('tenant_id', pair.tenant_id)
                END::text)
       FROM unnest(_tenant_ids, _user_ids) AS pair(tenant_id, user_id)
      GROUP BY pair.tenant_id;
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION auth.tg_effective_access_notify() IS
    'Trigger (AFTER INSERT/UPDATE/DELETE/TRUNCATE on auth.effective_access, statement): notifies '
    'auth_access_changed at commit, once per tenant, naming the users whose rows changed while at most 20.';

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
