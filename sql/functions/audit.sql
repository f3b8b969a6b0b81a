-- Audit: triggers on every audited table write auth.audit_log, so changes made by direct DML
-- are recorded exactly like those made through the functions: a row-level trigger for
-- updates and deletes, a statement-level one for inserts. Columns named as trigger
-- arguments are secrets (password hashes): the log says "redacted" instead.

CREATE OR REPLACE FUNCTION auth.tg_audit()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _old jsonb;
    _new jsonb;
    _row jsonb;
    _tenant_id uuid;
    _secret text;
BEGIN
    _old := to_jsonb(OLD);
    IF TG_OP = 'UPDATE' THEN _new := to_jsonb(NEW); END IF;
    IF _old = _new THEN
        RETURN NULL;  -- an UPDATE that changed nothing is not an event
    END IF;
    IF TG_NARGS > 0 THEN
        FOREACH _secret IN ARRAY TG_ARGV LOOP
            _old := _old || jsonb_build_object(_secret, 'redacted');  -- NULL stays NULL
            _new := _new || jsonb_build_object(_secret, 'redacted');
        END LOOP;
    END IF;
    _row := coalesce(_new, _old);

    -- Every audited row carries its tenant (auth.tenant its own id) except set contents,
    -- whose tenant is the set's. Users, the catalogue and templates have none.
    IF TG_TABLE_NAME = 'perm_set_permission' THEN
        SELECT ps.tenant_id INTO _tenant_id FROM auth.perm_set ps WHERE ps.perm_set_id = (_row ->> 'perm_set_id')::uuid;
    ELSE
        _tenant_id := (_row ->> 'tenant_id')::uuid;
    END IF;

    INSERT INTO auth.audit_log (tenant_id, actor_user_id, db_role, action, details)
    VALUES (_tenant_id,
            auth.current_actor(),
            session_user,
            TG_TABLE_NAME || '.' || lower(TG_OP),
            CASE TG_OP WHEN 'DELETE' THEN jsonb_build_object('old', _old)
                       ELSE jsonb_build_object('old', _old, 'new', _new) END);
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION auth.tg_audit() IS
    'Trigger (AFTER UPDATE/DELETE, row; inserts are auth.tg_audit_insert): writes one auth.audit_log row per changed row, with the '
    'tenant, the actor of auth.set_actor, session_user and the old and/or new row. The columns named as '
    'trigger arguments are written as "redacted".';

-- Inserts are audited per statement: bulk loads insert millions of rows, and one
-- set-based INSERT into the log per statement costs a fraction of a trigger call per row
-- (the row-level trigger was a third of the benchmark's bulk load). Updates and deletes
-- stay row-level above, for the old/new pairing and the "nothing changed" rule.
CREATE OR REPLACE FUNCTION auth.tg_audit_insert()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _redacted jsonb := '{}';
    _secret text;
BEGIN
    IF TG_NARGS > 0 THEN
        FOREACH _secret IN ARRAY TG_ARGV LOOP
            _redacted := _redacted || jsonb_build_object(_secret, 'redacted');
        END LOOP;
    END IF;
    -- As in auth.tg_audit: set contents carry the set's tenant, other rows their own.
    IF TG_TABLE_NAME = 'perm_set_permission' THEN
        INSERT INTO auth.audit_log (tenant_id, actor_user_id, db_role, action, details)
        SELECT ps.tenant_id, auth.current_actor(), session_user, 'perm_set_permission.insert',
               jsonb_build_object('new', to_jsonb(i) || _redacted)
          FROM inserted i
          LEFT JOIN auth.perm_set ps ON ps.perm_set_id = i.perm_set_id;
    ELSE
        INSERT INTO auth.audit_log (tenant_id, actor_user_id, db_role, action, details)
        SELECT (to_jsonb(i) ->> 'tenant_id')::uuid, auth.current_actor(), session_user, TG_TABLE_NAME || '.insert',
               jsonb_build_object('new', to_jsonb(i) || _redacted)
          FROM inserted i;
    END IF;
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION auth.tg_audit_insert() IS
    'Trigger (AFTER INSERT, statement, REFERENCING NEW TABLE AS inserted): writes one auth.audit_log row per '
    'inserted row, as auth.tg_audit does, in one statement. The columns named as trigger arguments are '
    'written as "redacted".';

CREATE OR REPLACE FUNCTION auth.get_audit_log(
    _tenant_id uuid,
    _since     timestamptz DEFAULT NULL,
    _until     timestamptz DEFAULT NULL,
    _limit     integer DEFAULT 100)
RETURNS SETOF auth.audit_log
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    -- No existence check: the history of a deleted tenant stays readable. NULL names the
    -- rows without a tenant, as it names the templates in auth.create_perm_set.
    IF _limit < 1 THEN
        RAISE EXCEPTION 'invalid limit'
            USING ERRCODE = 'QI001',
                  DETAIL = format('_limit is %s.', _limit),
                  HINT = 'Pass a positive limit, or NULL for no limit.';
    END IF;
    -- Two queries rather than IS NOT DISTINCT FROM, which no index can serve.
    IF _tenant_id IS NULL THEN
        RETURN QUERY
        SELECT a.*
          FROM auth.audit_log a
         WHERE a.tenant_id IS NULL
           AND (_since IS NULL OR a.occurred_at >= _since)
           AND (_until IS NULL OR a.occurred_at < _until)
         ORDER BY a.occurred_at DESC, a.audit_id DESC
         LIMIT _limit;
    ELSE
        RETURN QUERY
        SELECT a.*
          FROM auth.audit_log a
         WHERE a.tenant_id = _tenant_id
           AND (_since IS NULL OR a.occurred_at >= _since)
           AND (_until IS NULL OR a.occurred_at < _until)
         ORDER BY a.occurred_at DESC, a.audit_id DESC
         LIMIT _limit;
    END IF;
END;
$$;
COMMENT ON FUNCTION auth.get_audit_log(uuid, timestamptz, timestamptz, integer) IS
    'Audit rows of a tenant (deleted tenants included), newest first, occurred_at in [_since, _until), '
    'at most _limit rows (NULL: all). _tenant_id NULL gives the rows that have no tenant instead: users, '
    'passwords, the catalogue and template sets.';

CREATE OR REPLACE FUNCTION auth.list_audit_log(
    _tenant_id      uuid,
    _include_global boolean DEFAULT false,
    _action         text DEFAULT NULL,
    _actor_user_id  uuid DEFAULT NULL,
    _page_size      integer DEFAULT 50,
    _before         bigint DEFAULT NULL)
RETURNS SETOF auth.audit_log
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    -- As auth.get_audit_log: no existence check, a deleted tenant's history stays readable.
    PERFORM auth.assert_given(_tenant_id, '_tenant_id');
    IF _action IS NOT NULL THEN
        PERFORM auth.assert_given(_action, '_action');
    END IF;
    PERFORM auth.assert_page_size(_page_size);
    -- Newest first by audit_id, a total order that new rows only extend at the top (ids are
    -- taken at insert: a transaction still open while someone pages may commit a row below the
    -- cursor, seen by a new read from the top). Backwards along the primary key, filtered.
    RETURN QUERY
    SELECT a.*
      FROM auth.audit_log a
     WHERE (a.tenant_id = _tenant_id OR (_include_global AND a.tenant_id IS NULL))
       AND (_action IS NULL OR a.action = _action
            OR (strpos(_action, '.') = 0 AND split_part(a.action, '.', 1) = _action))
       AND (_actor_user_id IS NULL OR a.actor_user_id = _actor_user_id)
       AND (_before IS NULL OR a.audit_id < _before)
     ORDER BY a.audit_id DESC
     LIMIT _page_size;
END;
$$;
COMMENT ON FUNCTION auth.list_audit_log(uuid, boolean, text, uuid, integer, bigint) IS
    'A page of a tenant''s audit rows, newest first (by audit_id; _before is the last audit_id of the previous page). '
    '_include_global adds the rows without a tenant (users, passwords, the catalogue, templates): in a database that '
    'holds one tenant they are its own. _action keeps one action (user_info.update) or, without a dot, every action '
    'on a table (user_info); _actor_user_id keeps what that user did (auth.set_actor). QI001, QI009.';
