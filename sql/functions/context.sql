-- The acting application user of the current transaction, recorded by the audit triggers.
-- Invoker functions: they only read or set a transaction-local setting.

CREATE OR REPLACE FUNCTION auth.set_actor(_user_id uuid)
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    -- is_local = true: the actor never leaks into the next transaction on a pooled connection.
    PERFORM set_config('auth.actor_user_id', coalesce(_user_id::text, ''), true);
END;
$$;
COMMENT ON FUNCTION auth.set_actor(uuid) IS
    'Sets the acting application user for the rest of the current transaction (NULL clears it). '
    'Outside an explicit transaction it lasts for one statement only.';

-- Read by the audit trigger for every audited row: a one-expression SQL function the planner
-- inlines, so every name is qualified instead of a SET clause (which would prevent inlining
-- and cost a GUC save and restore per row). '' (the value after the transaction that set
-- it) becomes NULL as in auth.current_tenant_id.
CREATE OR REPLACE FUNCTION auth.current_actor()
RETURNS uuid
LANGUAGE sql
STABLE
PARALLEL SAFE
AS $$
    SELECT (pg_catalog.string_to_array(pg_catalog.current_setting('auth.actor_user_id', true), ','))[1]::pg_catalog.uuid
$$;
COMMENT ON FUNCTION auth.current_actor() IS
    'The acting application user set by auth.set_actor in this transaction, or NULL.';
