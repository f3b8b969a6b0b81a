-- The acting application user of the current transaction, recorded by the audit triggers.
-- Invoker functions: they only read or set a transaction-local setting.

-- Outside a transaction block the actor would last for the set_actor statement only, and
-- the next statement, in a transaction of its own, would be recorded without it. PostgreSQL
-- does not tell SQL whether a transaction block is open (libpq tells the client:
-- PQtransactionStatus, which AuthClient.setActor checks and throws QS005 for), so this
-- function warns where it can tell for sure that the transaction began with this very
-- statement: a call at top level (the PG_CONTEXT stack has this function only), whose
-- statement started the transaction (statement_timestamp() = transaction_timestamp(), both
-- documented to be equal during a transaction's first command), and whose query string
-- holds no further statement (current_query()). That covers psql and every client of the
-- simple query protocol. Under the extended protocol (parameters, prepared statements) the
-- transaction starts at Parse or Bind and the statement time at Execute, microseconds later,
-- so there it stays silent: a timing threshold would also misjudge a fast BEGIN. A warning
-- rather than an error, because the call is not wrong in itself: the actor does count for the
-- rest of its own statement.
CREATE OR REPLACE FUNCTION auth.set_actor(_user_id uuid)
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    _context text;
BEGIN
    -- is_local = true: the actor never leaks into the next transaction on a pooled connection.
    PERFORM set_config('auth.actor_user_id', coalesce(_user_id::text, ''), true);
    IF _user_id IS NOT NULL AND statement_timestamp() = transaction_timestamp() THEN
        GET DIAGNOSTICS _context = PG_CONTEXT;
        IF strpos(_context, E'\n') = 0 AND current_query() !~ ';\s*\S' THEN
            RAISE WARNING 'auth.set_actor outside a transaction block'
                USING ERRCODE = 'QS005',
                      DETAIL = 'This statement runs in a transaction of its own: the actor ends with it, '
                               'and the next statement is recorded without one.',
                      HINT = 'Call it after BEGIN, in the transaction whose changes it should name.';
        END IF;
    END IF;
END;
$$;
COMMENT ON FUNCTION auth.set_actor(uuid) IS
    'Sets the acting application user for the rest of the current transaction (NULL clears it). '
    'Outside an explicit transaction it lasts for one statement only: called so from psql (autocommit), '
    'it raises a WARNING (QS005).';

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
