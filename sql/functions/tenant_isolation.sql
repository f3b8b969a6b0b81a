-- Row-level tenant isolation for application tables.
--
-- An application sets the tenant context once per transaction; tables put under
-- auth.enable_tenant_isolation then show and accept only that tenant's rows. The context is
-- transaction-local (set_config(..., true)), so it never leaks to the next transaction on a
-- pooled connection.

CREATE OR REPLACE FUNCTION auth.set_tenant_context(_tenant_id uuid, _user_id uuid)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    -- Only a live membership opens a tenant (check_tenant_access raises QI001 for NULL).
    IF NOT auth.check_tenant_access(_tenant_id, _user_id) THEN
        RAISE EXCEPTION 'no access to tenant'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('User %s has no active membership of an active tenant %s.', _user_id, _tenant_id),
                  HINT = 'Check the ids, and that the tenant, the user and the membership are active.';
    END IF;
    PERFORM set_config('auth.tenant_id', _tenant_id::text, true);
    PERFORM set_config('auth.actor_user_id', _user_id::text, true);
END;
$$;
COMMENT ON FUNCTION auth.set_tenant_context(uuid, uuid) IS
    'Sets the tenant (auth.current_tenant_id) and the acting user (auth.current_actor) for the rest of '
    'the current transaction. 42501 unless the user has a live membership of the tenant; QI001 for NULL.';

-- Called by every row-level policy: a one-expression SQL function that the planner inlines,
-- every name schema-qualified instead of a SET clause (which would prevent inlining). After
-- the transaction that set it, the setting reads ''; string_to_array('') is empty, so [1]
-- turns that into NULL without NULLIF, whose = operator search_path could redirect.
CREATE OR REPLACE FUNCTION auth.current_tenant_id()
RETURNS uuid
LANGUAGE sql
STABLE
PARALLEL SAFE
AS $$
    SELECT (pg_catalog.string_to_array(pg_catalog.current_setting('auth.tenant_id', true), ','))[1]::pg_catalog.uuid
$$;
COMMENT ON FUNCTION auth.current_tenant_id() IS
    'The tenant set by auth.set_tenant_context in this transaction, or NULL.';

-- SECURITY INVOKER on purpose: ALTER TABLE needs the caller to own the table, so nobody can
-- use this function to change a table they could not change themselves.
CREATE OR REPLACE FUNCTION auth.enable_tenant_isolation(_table regclass, _tenant_column name DEFAULT 'tenant_id')
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
    _column_type regtype;
    _bypassing text;
BEGIN
    IF _table IS NULL OR _tenant_column IS NULL THEN
        RAISE EXCEPTION 'missing argument'
            USING ERRCODE = 'QI001',
                  DETAIL = '_table and _tenant_column are required.',
                  HINT = 'Pass a table and the name of its uuid tenant column.';
    END IF;
    SELECT a.atttypid::regtype INTO _column_type
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = _table AND a.attname = _tenant_column AND a.attnum > 0 AND NOT a.attisdropped;
    IF _column_type IS DISTINCT FROM 'uuid'::regtype THEN
        RAISE EXCEPTION 'invalid tenant column'
            USING ERRCODE = 'QI005',
                  DETAIL = CASE WHEN _column_type IS NULL
                                THEN format('Table %s has no column %I.', _table, _tenant_column)
                                ELSE format('Column %I of %s is %s, not uuid.', _tenant_column, _table, _column_type) END,
                  HINT = 'Name the uuid column that holds auth tenant ids.';
    END IF;

    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', _table);
    -- FORCE: the table's owner is bound too, since applications often connect as the owner.
    -- Superusers and BYPASSRLS roles are exempt, as always in PostgreSQL.
    EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', _table);
    EXECUTE format('DROP POLICY IF EXISTS auth_tenant_isolation ON %s', _table);
    EXECUTE format($policy$
        CREATE POLICY auth_tenant_isolation ON %1$s
            USING (%2$I OPERATOR(pg_catalog.=) auth.current_tenant_id())
            WITH CHECK (%2$I OPERATOR(pg_catalog.=) auth.current_tenant_id())
        $policy$, _table, _tenant_column);
    EXECUTE format('COMMENT ON POLICY auth_tenant_isolation ON %s IS %L', _table,
                   format('Rows of the tenant set by auth.set_tenant_context only (column %I).', _tenant_column));

    -- Superusers and BYPASSRLS roles see every row whatever the policy: say so when the
    -- table's owner or the caller is one, since "it isolates nothing" is otherwise silent
    -- (trying it as the superuser of a development database is the usual way to meet it).
    SELECT string_agg(format('%s (%s)', r.rolname, concat_ws(', ', CASE WHEN r.rolsuper THEN 'superuser' END,
                                                              CASE WHEN r.rolbypassrls THEN 'BYPASSRLS' END)),
                      ' and ' ORDER BY r.rolname)
      INTO _bypassing
      FROM pg_catalog.pg_roles r
     WHERE (r.rolsuper OR r.rolbypassrls)
       AND (r.oid = (SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = _table) OR r.rolname = current_user);
    IF _bypassing IS NOT NULL THEN
        RAISE NOTICE 'row-level security on % does not apply to %', _table, _bypassing
            USING DETAIL = 'Superusers and roles with BYPASSRLS see and change every row whatever the policy.',
                  HINT = 'Connect the application as a login role that is neither (a member of auth_app, say), '
                         'and let such a role own the table.';
    END IF;

    IF NOT EXISTS (SELECT FROM pg_catalog.pg_index i
                    WHERE i.indrelid = _table
                      AND i.indkey[0] = (SELECT a.attnum FROM pg_catalog.pg_attribute a
                                          WHERE a.attrelid = _table AND a.attname = _tenant_column)) THEN
        RAISE NOTICE 'no index on %(%) starts with the tenant column', _table, _tenant_column
            USING HINT = format('Every query of %s now filters on %I: CREATE INDEX ON %s (%I).',
                                _table, _tenant_column, _table, _tenant_column);
    END IF;
END;
$$;
COMMENT ON FUNCTION auth.enable_tenant_isolation(regclass, name) IS
    'Turns on (and forces) row-level security on an application table with a policy that shows and '
    'accepts only rows whose tenant column equals auth.current_tenant_id(): none without a context. '
    'Re-runnable. The caller must own the table. QI005 when the column is missing or not uuid.';
