-- The global permission catalogue.
--
-- Function bodies handle codes as text (looked up through the unique index on code::text)
-- and never name the ltree type, so they work wherever the extension is installed. Where a
-- text code must become an ltree value, it is assigned to a variable declared as
-- auth.permission.code%TYPE: PL/pgSQL converts through the type's input function.

CREATE OR REPLACE FUNCTION auth.tg_permission_before_insert()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _segments text[] := string_to_array(NEW.code::text, '.');
    _depth integer := cardinality(_segments);
    _parent_code text;
    _parent auth.permission.code%TYPE;
    _parent_nos integer[];
BEGIN
    IF NEW.code IS NULL THEN
        RETURN NEW;  -- the NOT NULL constraint reports it
    END IF;
    PERFORM auth.assert_perm_code(NEW.code::text);
    -- The name is stored as given, like every other name; a blank one (see auth.is_blank)
    -- becomes the last segment.
    IF NEW.name IS NULL OR auth.is_blank(NEW.name) THEN
        NEW.name := _segments[_depth];
    END IF;

    IF _depth = 1 THEN
        NEW.ancestor_nos := ARRAY[NEW.permission_no];
        RETURN NEW;
    END IF;

    -- The parent's ancestor_nos plus our own number. A missing parent is created first
    -- (its own insert creates its missing parents in turn); ON CONFLICT covers a
    -- concurrent transaction creating the same parent.
    _parent_code := array_to_string(_segments[1:_depth - 1], '.');
    SELECT p.ancestor_nos INTO _parent_nos FROM auth.permission p WHERE p.code::text = _parent_code;
    IF _parent_nos IS NULL THEN
        _parent := _parent_code;
        INSERT INTO auth.permission (code) VALUES (_parent) ON CONFLICT DO NOTHING;
        SELECT p.ancestor_nos INTO STRICT _parent_nos FROM auth.permission p WHERE p.code::text = _parent_code;
    END IF;
    NEW.ancestor_nos := _parent_nos || NEW.permission_no;
    RETURN NEW;
END;
$$;
COMMENT ON FUNCTION auth.tg_permission_before_insert() IS
    'Trigger (BEFORE INSERT on auth.permission, row): validates the code (QI002), names the row after its '
    'last segment when no name is given, creates missing ancestors and fills ancestor_nos. '
    'So a direct INSERT of a.b.c works too.';

CREATE OR REPLACE FUNCTION auth.create_permission(_code text, _name text, _description text DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _ltree_code auth.permission.code%TYPE;
    _permission_id uuid;
    _constraint text;
BEGIN
    PERFORM auth.assert_given(_code, '_code');
    PERFORM auth.assert_perm_code(_code);
    PERFORM auth.assert_given(_name, '_name');

    _ltree_code := _code;
    BEGIN
        INSERT INTO auth.permission (code, name, description)
        VALUES (_ltree_code, _name, _description)
        RETURNING permission_id INTO _permission_id;
    EXCEPTION WHEN unique_violation THEN
        GET STACKED DIAGNOSTICS _constraint = CONSTRAINT_NAME;
        IF _constraint NOT IN ('permission_code_key', 'permission_code_text_key') THEN
            RAISE;
        END IF;
        RAISE EXCEPTION 'permission exists'
            USING ERRCODE = 'QD005',
                  DETAIL = format('Permission code %L is already in the catalogue.', _code),
                  HINT = 'Use the existing code.';
    END;
    RETURN _permission_id;
END;
$$;
COMMENT ON FUNCTION auth.create_permission(text, text, text) IS
    'Adds a code to the catalogue and returns its id; missing ancestors are created, named after their '
    'last segment. QI002 for a malformed code or one longer than 255 characters, QD005 when it exists.';

CREATE OR REPLACE FUNCTION auth.delete_permission(_code text, _force boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _permission_no integer;
    _tenant_ids uuid[] := '{}';
    _listed uuid[];
    _uses text[];
BEGIN
    PERFORM auth.assert_given(_force, '_force');
    SELECT p.permission_no INTO _permission_no FROM auth.permission p WHERE p.code::text = _code;
    IF _permission_no IS NULL THEN
        PERFORM auth.raise_permission_not_found(_code);
    END IF;

    -- The tenants whose sets or assignments use the subtree are stamped first (see
    -- effective_access.sql, lock order): a forced delete changes access in each of them.
    -- Then the subtree is locked, before checking it is unused: a concurrent grant of one of
    -- these codes (whose foreign key check needs a key-share lock) waits for us and then
    -- fails, and one committed before our lock is seen by the check below.
    -- Only that lock, taken after the stamps, fixes which tenants use the subtree: a use
    -- committed just before it, in a tenant not stamped, would be stamped by the cascade
    -- below, out of order (a deadlock with a holder of that stamp waiting for one of ours).
    -- So each round stamps the tenants known so far, locks the subtree and lists them again;
    -- when one is missing, the round is rolled back (a subtransaction: its stamps and locks
    -- are released) and the next takes them all in order. The list only grows, so this
    -- ends, for a code in use usually after the second round (the first knows no tenant).
    LOOP
        BEGIN
            PERFORM auth.lock_tenants(_tenant_ids);
            PERFORM p.permission_id FROM auth.permission p WHERE p.ancestor_nos @> ARRAY[_permission_no] FOR UPDATE;
            _listed := ARRAY(
                SELECT ps.tenant_id
                  FROM auth.permission p
                  JOIN auth.perm_set_permission sp ON sp.permission_id = p.permission_id
                  JOIN auth.perm_set ps ON ps.perm_set_id = sp.perm_set_id
                 WHERE p.ancestor_nos @> ARRAY[_permission_no] AND ps.tenant_id IS NOT NULL  -- templates: no tenant
                UNION
                SELECT a.tenant_id
                  FROM auth.permission p
                  JOIN auth.permission_assignment a ON a.permission_id = p.permission_id
                 WHERE p.ancestor_nos @> ARRAY[_permission_no]);
            EXIT WHEN _listed <@ _tenant_ids;
            _tenant_ids := _tenant_ids || _listed;  -- variables survive the rollback below
            RAISE EXCEPTION 'tenants to stamp first' USING ERRCODE = 'QR000';  -- internal, caught below
        EXCEPTION WHEN SQLSTATE 'QR000' THEN
            NULL;  -- this round's stamps and locks are released; the next one retakes them in order
        END;
    END LOOP;

    IF NOT _force THEN
        _uses := ARRAY(
            SELECT u.description
              FROM (SELECT p.permission_no,
                           CASE WHEN ps.tenant_id IS NULL
                                THEN format('%s in template set %s', p.code, ps.code)
                                ELSE format('%s in set %s of tenant %s', p.code, ps.code, ps.tenant_id) END AS description
                      FROM auth.permission p
                      JOIN auth.perm_set_permission sp ON sp.permission_id = p.permission_id
                      JOIN auth.perm_set ps ON ps.perm_set_id = sp.perm_set_id
                     WHERE p.ancestor_nos @> ARRAY[_permission_no]
                    UNION ALL
                    SELECT p.permission_no, format('%s assigned directly in tenant %s', p.code, a.tenant_id)
                      FROM auth.permission p
                      JOIN auth.permission_assignment a ON a.permission_id = p.permission_id
                     WHERE p.ancestor_nos @> ARRAY[_permission_no]
                    UNION ALL
                    SELECT p.permission_no,
                           format('%s %s on %s %s in tenant %s', p.code, CASE WHEN rg.is_deny THEN 'denied' ELSE 'granted' END,
                                  rg.resource_type, rg.resource_id, rg.tenant_id)
                      FROM auth.permission p
                      JOIN auth.resource_grant rg ON rg.permission_no = p.permission_no
                     WHERE p.ancestor_nos @> ARRAY[_permission_no]) AS u
             ORDER BY u.permission_no, u.description);
        IF cardinality(_uses) > 0 THEN
            RAISE EXCEPTION 'permission in use'
                USING ERRCODE = 'QS001',
                      DETAIL = format('Permission code %L (or a code below it) has %s use(s): %s%s.',
                                      _code, cardinality(_uses), array_to_string(_uses[1:5], '; '),
                                      CASE WHEN cardinality(_uses) > 5 THEN format('; and %s more', cardinality(_uses) - 5) ELSE '' END),
                      HINT = format('Remove it from those sets (auth.remove_perm_set_permissions), assignments '
                                    '(auth.unassign_permission) and resources (auth.revoke_resource_permission), '
                                    'or delete it with them: '
                                    'auth.delete_permission(_code := %L, _force := true).', _code);
        END IF;
    END IF;

    -- Forced: the foreign keys' ON DELETE CASCADE take the sets' entries, the direct
    -- assignments and the resource grants along, and their triggers refresh the check cache
    -- and write the audit log.
    DELETE FROM auth.permission p WHERE p.ancestor_nos @> ARRAY[_permission_no];
END;
$$;
COMMENT ON FUNCTION auth.delete_permission(text, boolean) IS
    'Deletes a code and all its descendants from the catalogue. A code (or descendant) in a set (templates '
    'included), directly assigned or granted on a resource is refused with QS001, whose DETAIL lists the uses; with _force := true it is '
    'deleted anyway, taken out of every set, and every direct assignment and resource grant or deny of it deleted (the users lose those rights). '
    'QN003 for an unknown code.';

-- A code never outlives its parent: a child's ancestor_nos names the parent's number, so
-- an orphan would stop being granted by a re-created parent and would block re-creating
-- it. Direct DELETEs therefore take the subtree along, as auth.delete_permission does;
-- the foreign keys' ON DELETE CASCADE then drop sets' entries and assignments of the
-- deleted codes, and their triggers refresh the check cache.
CREATE OR REPLACE FUNCTION auth.tg_permission_delete_subtree()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    -- The nested DELETE fires this trigger again for the descendants it removes, and a
    -- statement trigger fires even for no rows: stop when there is nothing left.
    IF NOT EXISTS (SELECT FROM old_rows) THEN
        RETURN NULL;
    END IF;
    DELETE FROM auth.permission p
     WHERE p.ancestor_nos && (SELECT array_agg(o.permission_no) FROM old_rows o);
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION auth.tg_permission_delete_subtree() IS
    'Trigger (AFTER DELETE on auth.permission, statement): deletes the descendants of deleted codes.';
