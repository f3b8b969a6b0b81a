-- Declarative set-up: an application declares, at boot, the codes it checks and the template
-- permission sets new tenants start with, and auth.apply_permission_catalogue makes the
-- database match: in one transaction, idempotent, reporting each change.
--
-- The declaration (jsonb):
--   {"permissions": [{"code": "users.view", "name": "View users", "description": "..."}],
--    "perm_sets":   [{"code": "VIEWER", "name": "Viewer", "description": "...", "permissions": ["users.view"]}],
--    "remove":      {"permissions": ["legacy"], "perm_sets": ["OLD_SET"]}}
-- Every key is optional but "code", "name" and a set's "permissions"; an absent description
-- is none. A declared code or set ends up with exactly the declared name and description, and
-- a declared set with exactly the declared codes. What the declaration does not name is left
-- alone (the catalogue is shared: several applications may declare their own codes), except
-- what "remove" lists. Unknown keys, wrong types and duplicates are errors (QI010), as typos
-- must fail loudly.

CREATE OR REPLACE FUNCTION auth.raise_invalid_declaration(_where text, _problem text)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
    RAISE EXCEPTION 'invalid declaration'
        USING ERRCODE = 'QI010',
              DETAIL = format('%s %s.', _where, _problem),
              HINT = 'The declaration is {"permissions": [{"code", "name", "description"?}], '
                     '"perm_sets": [{"code", "name", "description"?, "permissions": [codes]}], '
                     '"remove": {"permissions": [codes], "perm_sets": [codes]}}; every top-level key is optional.';
END;
$$;
COMMENT ON FUNCTION auth.raise_invalid_declaration(text, text) IS
    'Internal: raises QI010 for a declaration of auth.apply_permission_catalogue, naming where the problem is.';

CREATE OR REPLACE FUNCTION auth.declaration_object(_value jsonb, _where text, _keys text[], _required text[])
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    _key text;
BEGIN
    IF jsonb_typeof(_value) IS DISTINCT FROM 'object' THEN
        PERFORM auth.raise_invalid_declaration(_where, 'is not a JSON object');
    END IF;
    SELECT k INTO _key FROM jsonb_object_keys(_value) AS k WHERE k <> ALL (_keys) ORDER BY k LIMIT 1;
    IF FOUND THEN
        PERFORM auth.raise_invalid_declaration(_where, format('has an unknown key %s (known: %s)',
                                                              to_jsonb(_key), array_to_string(_keys, ', ')));
    END IF;
    FOREACH _key IN ARRAY _required LOOP
        IF NOT _value ? _key THEN
            PERFORM auth.raise_invalid_declaration(_where, format('has no %s', to_jsonb(_key)));
        END IF;
    END LOOP;
    RETURN _value;
END;
$$;
COMMENT ON FUNCTION auth.declaration_object(jsonb, text, text[], text[]) IS
    'Internal: returns _value when it is a JSON object with only the keys _keys and every key of _required; QI010 otherwise.';

CREATE OR REPLACE FUNCTION auth.declaration_text(_value jsonb, _where text)
RETURNS text
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
    -- JSON null and an absent key are both SQL NULL here.
    IF _value IS NOT NULL AND jsonb_typeof(_value) NOT IN ('string', 'null') THEN
        PERFORM auth.raise_invalid_declaration(_where, format('is a JSON %s, not a string', jsonb_typeof(_value)));
    END IF;
    RETURN _value #>> '{}';
END;
$$;
COMMENT ON FUNCTION auth.declaration_text(jsonb, text) IS
    'Internal: the string _value as text (NULL for JSON null or none); QI010 for another JSON type.';

CREATE OR REPLACE FUNCTION auth.declaration_codes(_value jsonb, _where text)
RETURNS text[]
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    _codes text[] := '{}';
    _code text;
    _n integer;
BEGIN
    IF _value IS NULL THEN
        RETURN _codes;
    END IF;
    IF jsonb_typeof(_value) <> 'array' THEN
        PERFORM auth.raise_invalid_declaration(_where, 'is not a JSON array');
    END IF;
    FOR _n IN 0 .. jsonb_array_length(_value) - 1 LOOP
        _code := auth.declaration_text(_value -> _n, format('%s[%s]', _where, _n));
        IF _code IS NULL THEN
            PERFORM auth.raise_invalid_declaration(format('%s[%s]', _where, _n), 'is null');
        END IF;
        IF _code = ANY (_codes) THEN
            PERFORM auth.raise_invalid_declaration(format('%s[%s]', _where, _n), format('repeats %s', to_jsonb(_code)));
        END IF;
        _codes := _codes || _code;
    END LOOP;
    RETURN _codes;
END;
$$;
COMMENT ON FUNCTION auth.declaration_codes(jsonb, text) IS
    'Internal: the strings of a JSON array (none for NULL), in order; QI010 for anything else or a repeated one.';

CREATE OR REPLACE FUNCTION auth.apply_permission_catalogue(_declaration jsonb, _force boolean DEFAULT false)
RETURNS TABLE (action text, perm_set_code text, perm_code text, detail text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _permissions jsonb := '[]';  -- [{code, name, description}], checked
    _sets jsonb := '[]';         -- [{code, name, description, permissions: [codes]}], checked
    _remove jsonb;
    _remove_codes text[];
    _remove_sets text[];
    _item jsonb;
    _where text;
    _code text;
    _codes text[];
    _n integer;
    _rows jsonb;
    _hit text;
    _message text;
    _detail text;
BEGIN
    PERFORM auth.assert_given(_declaration, '_declaration');
    PERFORM auth.assert_given(_force, '_force');

    -- 1. Check the whole declaration before changing anything.
    PERFORM auth.declaration_object(_declaration, 'The declaration', ARRAY['permissions', 'perm_sets', 'remove'], '{}');
    IF jsonb_typeof(coalesce(_declaration -> 'permissions', '[]')) <> 'array' THEN
        PERFORM auth.raise_invalid_declaration('"permissions"', 'is not a JSON array');
    END IF;
    FOR _n IN 0 .. jsonb_array_length(coalesce(_declaration -> 'permissions', '[]')) - 1 LOOP
        _where := format('permissions[%s]', _n);
        _item := auth.declaration_object(_declaration -> 'permissions' -> _n, _where,
                                         ARRAY['code', 'name', 'description'], ARRAY['code', 'name']);
        _code := auth.declaration_text(_item -> 'code', _where || '.code');
        PERFORM auth.assert_given(_code, _where || '.code');
        PERFORM auth.assert_perm_code(_code);
        IF _permissions @> jsonb_build_array(jsonb_build_object('code', _code)) THEN
            PERFORM auth.raise_invalid_declaration(_where, format('repeats code %s', to_jsonb(_code)));
        END IF;
        PERFORM auth.assert_given(auth.declaration_text(_item -> 'name', _where || '.name'), _where || '.name');
        _permissions := _permissions || jsonb_build_array(jsonb_build_object(
            'code', _code, 'name', _item ->> 'name',
            'description', auth.declaration_text(_item -> 'description', _where || '.description')));
    END LOOP;

    IF jsonb_typeof(coalesce(_declaration -> 'perm_sets', '[]')) <> 'array' THEN
        PERFORM auth.raise_invalid_declaration('"perm_sets"', 'is not a JSON array');
    END IF;
    FOR _n IN 0 .. jsonb_array_length(coalesce(_declaration -> 'perm_sets', '[]')) - 1 LOOP
        _where := format('perm_sets[%s]', _n);
        _item := auth.declaration_object(_declaration -> 'perm_sets' -> _n, _where,
                                         ARRAY['code', 'name', 'description', 'permissions'],
                                         ARRAY['code', 'name', 'permissions']);
        _code := auth.declaration_text(_item -> 'code', _where || '.code');
        PERFORM auth.assert_code(_code, _where || '.code');
        IF _sets @> jsonb_build_array(jsonb_build_object('code', _code)) THEN
            PERFORM auth.raise_invalid_declaration(_where, format('repeats code %s', to_jsonb(_code)));
        END IF;
        PERFORM auth.assert_given(auth.declaration_text(_item -> 'name', _where || '.name'), _where || '.name');
        _codes := auth.declaration_codes(_item -> 'permissions', _where || '.permissions');
        FOREACH _code IN ARRAY _codes LOOP
            PERFORM auth.assert_perm_code(_code);
        END LOOP;
        _sets := _sets || jsonb_build_array(jsonb_build_object(
            'code', _item ->> 'code', 'name', _item ->> 'name',
            'description', auth.declaration_text(_item -> 'description', _where || '.description'),
            'permissions', to_jsonb(_codes)));
    END LOOP;

    _remove := auth.declaration_object(coalesce(_declaration -> 'remove', '{}'), '"remove"',
                                       ARRAY['permissions', 'perm_sets'], '{}');
    _remove_codes := auth.declaration_codes(_remove -> 'permissions', 'remove.permissions');
    FOREACH _code IN ARRAY _remove_codes LOOP
        PERFORM auth.assert_perm_code(_code);
        -- Deleting a code deletes its descendants: none of them may be declared or in a declared set.
        SELECT c INTO _hit
          FROM (SELECT d.code AS c FROM jsonb_to_recordset(_permissions) AS d(code text)
                UNION ALL
                SELECT jsonb_array_elements_text(s.permissions) FROM jsonb_to_recordset(_sets) AS s(permissions jsonb)) x
         WHERE c = _code OR starts_with(c, _code || '.')
         ORDER BY c COLLATE "C" LIMIT 1;
        IF FOUND THEN
            PERFORM auth.raise_invalid_declaration('remove.permissions',
                format('lists %s, which would delete %s, declared too', to_jsonb(_code), to_jsonb(_hit)));
        END IF;
    END LOOP;
    _remove_sets := auth.declaration_codes(_remove -> 'perm_sets', 'remove.perm_sets');
    FOREACH _code IN ARRAY _remove_sets LOOP
        PERFORM auth.assert_code(_code, 'remove.perm_sets');
        IF _sets @> jsonb_build_array(jsonb_build_object('code', _code)) THEN
            PERFORM auth.raise_invalid_declaration('remove.perm_sets', format('lists %s, declared too', to_jsonb(_code)));
        END IF;
    END LOOP;

    -- 2. Locks. The tenants whose sets or assignments use a code to delete, before anything
    --    else (see effective_access.sql, lock order); then the catalogue's stamp, which makes a
    --    concurrent apply wait for this one and then find nothing left to do (READ COMMITTED),
    --    or fail with 40001 when this snapshot missed a committed catalogue change.
    IF cardinality(_remove_codes) > 0 THEN
        PERFORM auth.lock_tenants(ARRAY(
            SELECT ps.tenant_id
              FROM auth.permission p
              JOIN auth.perm_set_permission sp ON sp.permission_id = p.permission_id
              JOIN auth.perm_set ps ON ps.perm_set_id = sp.perm_set_id
             WHERE p.code::text = ANY (_remove_codes)
                OR EXISTS (SELECT FROM unnest(_remove_codes) r WHERE starts_with(p.code::text, r || '.'))
            UNION
            SELECT a.tenant_id
              FROM auth.permission p
              JOIN auth.permission_assignment a ON a.permission_id = p.permission_id
             WHERE p.code::text = ANY (_remove_codes)
                OR EXISTS (SELECT FROM unnest(_remove_codes) r WHERE starts_with(p.code::text, r || '.'))));
    END IF;
    PERFORM auth.stamp_access(ARRAY['00000000-0000-0000-0000-000000000000'::uuid]);

    -- A set may hold codes declared here (or their ancestors) or already in the catalogue; any
    -- other is a typo.
    SELECT c INTO _code
      FROM (SELECT jsonb_array_elements_text(s.permissions) AS c FROM jsonb_to_recordset(_sets) AS s(permissions jsonb)) x
     WHERE NOT EXISTS (SELECT FROM jsonb_to_recordset(_permissions) AS d(code text)
                        WHERE d.code = x.c OR starts_with(d.code, x.c || '.'))
       AND NOT EXISTS (SELECT FROM auth.permission p WHERE p.code::text = x.c)
     ORDER BY c COLLATE "C" LIMIT 1;
    IF FOUND THEN
        PERFORM auth.raise_permission_not_found(_code);
    END IF;

    -- Each step below writes only when it has something to change: a statement on
    -- auth.permission regenerates the compiled catalogue even when it changes no row, and an
    -- apply with nothing to do should write nothing.

    -- 3. Codes to add: the declared ones and the ancestors they lack (named after their last
    --    segment, as auth.create_permission names them), parents first, in one statement.
    SELECT jsonb_agg(to_jsonb(w) ORDER BY w.code COLLATE "C") INTO _rows
      FROM (SELECT d.code, d.name, d.description
              FROM jsonb_to_recordset(_permissions) AS d(code text, name text, description text)
            UNION
            SELECT a.code, regexp_replace(a.code, '^.*\.', ''), NULL
              FROM jsonb_to_recordset(_permissions) AS d(code text),
                   LATERAL (SELECT array_to_string((string_to_array(d.code, '.'))[1:k], '.') AS code
                              FROM generate_series(1, cardinality(string_to_array(d.code, '.')) - 1) AS k) a
             WHERE NOT EXISTS (SELECT FROM jsonb_to_recordset(_permissions) AS e(code text) WHERE e.code = a.code)) w
     WHERE NOT EXISTS (SELECT FROM auth.permission p WHERE p.code::text = w.code);
    IF _rows IS NOT NULL THEN
        -- jsonb_populate_recordset converts each code to the column's type (ltree) without this
        -- file naming that type, which lives wherever the extension was installed.
        INSERT INTO auth.permission (code, name, description)
        SELECT r.code, r.name, r.description
          FROM jsonb_populate_recordset(NULL::auth.permission, _rows) AS r
         ORDER BY r.code::text COLLATE "C";
        RETURN QUERY
        SELECT 'permission.create', NULL::text, r.code, r.name
          FROM jsonb_to_recordset(_rows) AS r(code text, name text)
         ORDER BY r.code COLLATE "C";
    END IF;

    -- 4. Names and descriptions of declared codes.
    SELECT jsonb_agg(jsonb_build_object(
               'code', d.code, 'name', d.name, 'description', d.description,
               'detail', concat_ws('; ',
                   CASE WHEN p.name IS DISTINCT FROM d.name
                        THEN format('name %s -> %s', quote_nullable(p.name), quote_nullable(d.name)) END,
                   CASE WHEN p.description IS DISTINCT FROM d.description
                        THEN format('description %s -> %s', quote_nullable(p.description), quote_nullable(d.description)) END))
             ORDER BY d.code COLLATE "C") INTO _rows
      FROM jsonb_to_recordset(_permissions) AS d(code text, name text, description text)
      JOIN auth.permission p ON p.code::text = d.code
     WHERE (p.name, p.description) IS DISTINCT FROM (d.name, d.description);
    IF _rows IS NOT NULL THEN
        UPDATE auth.permission p
           SET name = r.name, description = r.description
          FROM jsonb_to_recordset(_rows) AS r(code text, name text, description text)
         WHERE p.code::text = r.code;
        RETURN QUERY
        SELECT 'permission.update', NULL::text, r.code, r.detail
          FROM jsonb_to_recordset(_rows) AS r(code text, detail text)
         ORDER BY r.code COLLATE "C";
    END IF;

    -- 5. Template sets: created, renamed, and holding exactly their declared codes. Templates
    --    are copied into tenants when a tenant is created; tenants' copies are not changed here.
    RETURN QUERY
    WITH created AS (
        INSERT INTO auth.perm_set (tenant_id, code, name, description)
        SELECT NULL, s.code, s.name, s.description
          FROM jsonb_to_recordset(_sets) AS s(code text, name text, description text)
         WHERE NOT EXISTS (SELECT FROM auth.perm_set ps WHERE ps.tenant_id IS NULL AND ps.code = s.code)
        RETURNING perm_set.code, perm_set.name)
    SELECT 'perm_set.create', c.code, NULL::text, c.name FROM created c ORDER BY c.code COLLATE "C";

    RETURN QUERY
    WITH changed AS (
        SELECT ps.perm_set_id, s.code, s.name, s.description,
               concat_ws('; ',
                   CASE WHEN ps.name IS DISTINCT FROM s.name
                        THEN format('name %s -> %s', quote_nullable(ps.name), quote_nullable(s.name)) END,
                   CASE WHEN ps.description IS DISTINCT FROM s.description
                        THEN format('description %s -> %s', quote_nullable(ps.description), quote_nullable(s.description)) END) AS detail
          FROM jsonb_to_recordset(_sets) AS s(code text, name text, description text)
          JOIN auth.perm_set ps ON ps.tenant_id IS NULL AND ps.code = s.code
         WHERE (ps.name, ps.description) IS DISTINCT FROM (s.name, s.description)),
    updated AS (
        UPDATE auth.perm_set ps SET name = c.name, description = c.description
          FROM changed c WHERE ps.perm_set_id = c.perm_set_id
        RETURNING ps.perm_set_id)
    SELECT 'perm_set.update', c.code, NULL::text, c.detail
      FROM changed c JOIN updated u ON u.perm_set_id = c.perm_set_id
     ORDER BY c.code COLLATE "C";

    RETURN QUERY
    WITH wanted AS (
        SELECT ps.perm_set_id, s.code AS set_code, p.permission_id, p.code::text AS perm_code
          FROM jsonb_to_recordset(_sets) AS s(code text, permissions jsonb)
          JOIN auth.perm_set ps ON ps.tenant_id IS NULL AND ps.code = s.code
          CROSS JOIN LATERAL jsonb_array_elements_text(s.permissions) AS c(code)
          JOIN auth.permission p ON p.code::text = c.code),
    held AS (
        SELECT ps.perm_set_id, s.code AS set_code, sp.permission_id, p.code::text AS perm_code
          FROM jsonb_to_recordset(_sets) AS s(code text)
          JOIN auth.perm_set ps ON ps.tenant_id IS NULL AND ps.code = s.code
          JOIN auth.perm_set_permission sp ON sp.perm_set_id = ps.perm_set_id
          JOIN auth.permission p ON p.permission_id = sp.permission_id),
    added AS (
        INSERT INTO auth.perm_set_permission (perm_set_id, permission_id)
        SELECT w.perm_set_id, w.permission_id FROM wanted w
        EXCEPT
        SELECT h.perm_set_id, h.permission_id FROM held h
        RETURNING perm_set_permission.perm_set_id, perm_set_permission.permission_id),
    removed AS (
        DELETE FROM auth.perm_set_permission sp
         USING held h
         WHERE sp.perm_set_id = h.perm_set_id AND sp.permission_id = h.permission_id
           AND NOT EXISTS (SELECT FROM wanted w WHERE w.perm_set_id = h.perm_set_id AND w.permission_id = h.permission_id)
        RETURNING sp.perm_set_id, sp.permission_id)
    SELECT x.action, x.set_code, x.perm_code, NULL::text
      FROM (SELECT 'perm_set.add_permission' AS action, w.set_code, w.perm_code
              FROM added a JOIN wanted w USING (perm_set_id, permission_id)
            UNION ALL
            SELECT 'perm_set.remove_permission', h.set_code, h.perm_code
              FROM removed r JOIN held h USING (perm_set_id, permission_id)) x
     ORDER BY x.set_code COLLATE "C", x.action, x.perm_code COLLATE "C";

    -- 6. Removals, sets first: a code may leave a set before it leaves the catalogue.
    RETURN QUERY
    WITH deleted AS (
        DELETE FROM auth.perm_set ps
         WHERE ps.tenant_id IS NULL AND ps.code = ANY (_remove_sets)
        RETURNING ps.code)
    SELECT 'perm_set.delete', d.code, NULL::text, NULL::text FROM deleted d ORDER BY d.code COLLATE "C";

    FOREACH _code IN ARRAY ARRAY(SELECT c FROM unnest(_remove_codes) AS c ORDER BY c COLLATE "C") LOOP
        CONTINUE WHEN NOT EXISTS (SELECT FROM auth.permission p WHERE p.code::text = _code);  -- gone, or under one deleted already
        RETURN QUERY
        SELECT 'permission.delete', NULL::text, p.code::text,
               CASE WHEN p.code::text <> _code THEN format('below %s', _code) END
          FROM auth.permission p
         WHERE p.code::text = _code OR starts_with(p.code::text, _code || '.')
         ORDER BY p.code::text COLLATE "C";
        BEGIN
            PERFORM auth.delete_permission(_code, _force);
        EXCEPTION WHEN SQLSTATE 'QS001' THEN
            -- The same refusal, with the advice for this function.
            GET STACKED DIAGNOSTICS _message = MESSAGE_TEXT, _detail = PG_EXCEPTION_DETAIL;
            RAISE EXCEPTION '%', _message
                USING ERRCODE = 'QS001', DETAIL = _detail,
                      HINT = 'Remove it from those sets and assignments first, or apply with _force := true '
                             '(pgperm permissions apply --force) to delete it with them.';
        END;
    END LOOP;
END;
$$;
COMMENT ON FUNCTION auth.apply_permission_catalogue(jsonb, boolean) IS
    'Makes the permission catalogue and the template permission sets (tenant_id NULL) match a declaration, in one '
    'transaction: adds missing codes (with their ancestors) and sets, sets declared names and descriptions, gives each '
    'declared set exactly its declared codes, and deletes only what "remove" lists. Idempotent: a second call returns '
    'no rows. Returns one row per change: action (permission.create|update|delete, perm_set.create|update|delete, '
    'perm_set.add_permission|remove_permission), the set and/or code, and a detail. A removed code still used by a '
    'tenant''s set or assignment is refused (QS001) unless _force. QI010 for a malformed declaration, QI001, QI002, '
    'QI003 for blank or malformed names and codes, QN003 for a set code that is neither declared nor in the catalogue.';
