-- Tenants, their members and their owners.

CREATE OR REPLACE FUNCTION auth.create_tenant(_name text, _code text, _owner_user_id uuid DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _tenant_id uuid;
    _constraint text;
BEGIN
    PERFORM auth.assert_given(_name, '_name');
    PERFORM auth.assert_code(_code, '_code');
    IF _owner_user_id IS NOT NULL THEN
        -- The owner's new membership: the user first, before any row is written (see
        -- effective_access.sql, lock order). The new tenant's stamp, taken later by the
        -- trigger on auth.tenant_user, is contended by no one: no one else knows the tenant.
        PERFORM auth.lock_users(ARRAY[_owner_user_id]);
        PERFORM auth.assert_user(_owner_user_id);
    END IF;

    BEGIN
        INSERT INTO auth.tenant (name, code) VALUES (_name, _code) RETURNING tenant_id INTO _tenant_id;
    EXCEPTION WHEN unique_violation THEN
        GET STACKED DIAGNOSTICS _constraint = CONSTRAINT_NAME;
        IF _constraint IS DISTINCT FROM 'tenant_code_key' THEN
            RAISE;
        END IF;
        RAISE EXCEPTION 'tenant code taken'
            USING ERRCODE = 'QD001',
                  DETAIL = format('Tenant code %L is already in use.', _code),
                  HINT = 'Choose another code (codes are case-sensitive).';
    END;

    IF _owner_user_id IS NOT NULL THEN
        BEGIN
            INSERT INTO auth.tenant_user (tenant_id, user_id) VALUES (_tenant_id, _owner_user_id);
            INSERT INTO auth.owner (tenant_id, user_id) VALUES (_tenant_id, _owner_user_id);
        EXCEPTION WHEN foreign_key_violation THEN
            PERFORM auth.recheck_parents(_user_id := _owner_user_id);  -- deleted concurrently: QN002
            RAISE;
        END;
    END IF;
    RETURN _tenant_id;
END;
$$;
COMMENT ON FUNCTION auth.create_tenant(text, text, uuid) IS
    'Creates an active tenant and returns its id. It receives a copy of every template permission set. '
    'When _owner_user_id is given, that user becomes a member and the tenant owner. QD001 when the code is taken.';

CREATE OR REPLACE FUNCTION auth.update_tenant(_tenant_id uuid, _name text DEFAULT NULL, _code text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _constraint text;
BEGIN
    PERFORM auth.assert_tenant(_tenant_id);
    IF _name IS NOT NULL THEN
        PERFORM auth.assert_given(_name, '_name');
    END IF;
    IF _code IS NOT NULL THEN
        PERFORM auth.assert_code(_code, '_code');
    END IF;

    BEGIN
        UPDATE auth.tenant t
           SET name = coalesce(_name, t.name),
               code = coalesce(_code, t.code)
         WHERE t.tenant_id = _tenant_id;
    EXCEPTION WHEN unique_violation THEN
        GET STACKED DIAGNOSTICS _constraint = CONSTRAINT_NAME;
        IF _constraint IS DISTINCT FROM 'tenant_code_key' THEN
            RAISE;
        END IF;
        RAISE EXCEPTION 'tenant code taken'
            USING ERRCODE = 'QD001',
                  DETAIL = format('Tenant code %L is already in use.', _code),
                  HINT = 'Choose another code (codes are case-sensitive).';
    END;
END;
$$;
COMMENT ON FUNCTION auth.update_tenant(uuid, text, text) IS
    'Renames a tenant and/or changes its code; NULL leaves a value unchanged. QN001, QI001, QI003, QD001.';

CREATE OR REPLACE FUNCTION auth.deactivate_tenant(_tenant_id uuid)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.lock_tenants(ARRAY[_tenant_id]);  -- first: see effective_access.sql, lock order
    PERFORM auth.assert_tenant(_tenant_id);
    UPDATE auth.tenant t SET is_active = false WHERE t.tenant_id = _tenant_id AND t.is_active;
END;
$$;
COMMENT ON FUNCTION auth.deactivate_tenant(uuid) IS
    'Deactivates a tenant: every check in it fails, the owner''s included, until reactivated. Idempotent.';

CREATE OR REPLACE FUNCTION auth.activate_tenant(_tenant_id uuid)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.lock_tenants(ARRAY[_tenant_id]);  -- first: see effective_access.sql, lock order
    PERFORM auth.assert_tenant(_tenant_id);
    UPDATE auth.tenant t SET is_active = true WHERE t.tenant_id = _tenant_id AND NOT t.is_active;
END;
$$;
COMMENT ON FUNCTION auth.activate_tenant(uuid) IS 'Reactivates a deactivated tenant. Idempotent.';

CREATE OR REPLACE FUNCTION auth.delete_tenant(_tenant_id uuid)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.lock_tenants(ARRAY[_tenant_id]);  -- first: see effective_access.sql, lock order
    PERFORM auth.assert_tenant(_tenant_id);
    DELETE FROM auth.tenant t WHERE t.tenant_id = _tenant_id;
END;
$$;
COMMENT ON FUNCTION auth.delete_tenant(uuid) IS
    'Deletes a tenant at once and for good, with its memberships, groups, sets, assignments, ownerships and '
    'preferences (auth.soft_delete_tenant keeps them for a restore). Its audit history is kept.';

-- Soft delete: the tenant grants nothing at once and every function treats it as unknown
-- (QN001, naming the deletion), but its rows stay until a purge, so a restore brings it back
-- whole. Its code stays taken meanwhile.
CREATE OR REPLACE FUNCTION auth.soft_delete_tenant(_tenant_id uuid)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.lock_tenants(ARRAY[_tenant_id]);  -- first: see effective_access.sql, lock order
    PERFORM auth.assert_tenant(_tenant_id);
    UPDATE auth.tenant t SET deleted_at = now() WHERE t.tenant_id = _tenant_id;
END;
$$;
COMMENT ON FUNCTION auth.soft_delete_tenant(uuid) IS
    'Deletes a tenant softly: it grants nothing at once and the functions treat it as unknown, until '
    'auth.restore_tenant; auth.purge_deleted_tenants removes it for good. QI001, QN001 (unknown or deleted already).';

CREATE OR REPLACE FUNCTION auth.restore_tenant(_tenant_id uuid)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.lock_tenants(ARRAY[_tenant_id]);  -- first: see effective_access.sql, lock order
    PERFORM auth.assert_given(_tenant_id, '_tenant_id');
    IF NOT EXISTS (SELECT FROM auth.tenant t WHERE t.tenant_id = _tenant_id) THEN
        RAISE EXCEPTION 'unknown tenant'
            USING ERRCODE = 'QN001',
                  DETAIL = format('No tenant has id %s: it never existed or was purged.', _tenant_id),
                  HINT = 'Only a tenant deleted with auth.soft_delete_tenant and not purged can be restored.';
    END IF;
    -- A tenant that is not deleted is restored already: nothing to do.
    UPDATE auth.tenant t SET deleted_at = NULL WHERE t.tenant_id = _tenant_id AND t.deleted_at IS NOT NULL;
END;
$$;
COMMENT ON FUNCTION auth.restore_tenant(uuid) IS
    'Brings back a softly deleted tenant with everything it had: its members hold what they held. Idempotent. '
    'QI001, QN001 for a tenant that never existed or was purged.';

CREATE OR REPLACE FUNCTION auth.purge_deleted_tenants(_deleted_before timestamptz DEFAULT now())
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _tenant_ids uuid[];
    _purged integer;
BEGIN
    PERFORM auth.assert_given(_deleted_before, '_deleted_before');
    _tenant_ids := ARRAY(SELECT t.tenant_id FROM auth.tenant t
                          WHERE t.deleted_at IS NOT NULL AND t.deleted_at <= _deleted_before);
    PERFORM auth.lock_tenants(_tenant_ids);  -- first: see effective_access.sql, lock order
    -- Only those still deleted once locked: a concurrent restore wins.
    DELETE FROM auth.tenant t
     WHERE t.tenant_id = ANY (_tenant_ids) AND t.deleted_at IS NOT NULL AND t.deleted_at <= _deleted_before;
    GET DIAGNOSTICS _purged = ROW_COUNT;
    RETURN _purged;
END;
$$;
COMMENT ON FUNCTION auth.purge_deleted_tenants(timestamptz) IS
    'Removes for good the tenants softly deleted at or before _deleted_before (default now), as auth.delete_tenant '
    'does, and returns how many. Their audit history is kept. QI001.';

CREATE OR REPLACE FUNCTION auth.add_user_to_tenant(_tenant_id uuid, _user_id uuid)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    -- A new membership: the user first, then the tenant (see effective_access.sql, lock order).
    PERFORM auth.lock_users(ARRAY[_user_id]);
    PERFORM auth.lock_tenants(ARRAY[_tenant_id]);
    PERFORM auth.assert_tenant(_tenant_id);
    PERFORM auth.assert_user(_user_id);
    -- One statement, so a concurrent call cannot slip in between a check and the write.
    BEGIN
        INSERT INTO auth.tenant_user AS tu (tenant_id, user_id)
        VALUES (_tenant_id, _user_id)
        ON CONFLICT (tenant_id, user_id) DO UPDATE SET is_active = true WHERE NOT tu.is_active;
    EXCEPTION WHEN foreign_key_violation THEN
        PERFORM auth.recheck_parents(_tenant_id, _user_id);  -- a parent deleted concurrently
        RAISE;
    END;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'already a tenant member'
            USING ERRCODE = 'QD006',
                  DETAIL = format('User %s is already an active member of tenant %s.', _user_id, _tenant_id),
                  HINT = 'Nothing to do.';
    END IF;
END;
$$;
COMMENT ON FUNCTION auth.add_user_to_tenant(uuid, uuid) IS
    'Makes the user an active member of the tenant, reactivating an inactive membership '
    '(joined_at is kept). QD006 when already an active member.';

CREATE OR REPLACE FUNCTION auth.remove_user_from_tenant(_tenant_id uuid, _user_id uuid, _hard boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.lock_tenants(ARRAY[_tenant_id]);  -- first: see effective_access.sql, lock order
    PERFORM auth.assert_tenant(_tenant_id);
    PERFORM auth.assert_user(_user_id);
    PERFORM auth.assert_given(_hard, '_hard');
    PERFORM auth.assert_tenant_member(_tenant_id, _user_id);
    -- A tenant must not silently lose its owner, softly or not.
    IF EXISTS (SELECT FROM auth.owner o
                WHERE o.tenant_id = _tenant_id AND o.user_id = _user_id AND o.user_group_id IS NULL) THEN
        RAISE EXCEPTION 'user is a tenant owner'
            USING ERRCODE = 'QS002',
                  DETAIL = format('User %s owns tenant %s.', _user_id, _tenant_id),
                  HINT = 'Transfer ownership first with auth.transfer_tenant_ownership.';
    END IF;

    IF _hard THEN
        DELETE FROM auth.tenant_user tu WHERE tu.tenant_id = _tenant_id AND tu.user_id = _user_id;
    ELSE
        UPDATE auth.tenant_user tu SET is_active = false
         WHERE tu.tenant_id = _tenant_id AND tu.user_id = _user_id AND tu.is_active;
    END IF;
END;
$$;
COMMENT ON FUNCTION auth.remove_user_from_tenant(uuid, uuid, boolean) IS
    'Removes a member from a tenant. Soft (default): deactivates the membership and keeps its groups '
    'and assignments. Hard: deletes the membership with its group memberships, group ownerships, '
    'assignments and preferences in that tenant. QN006 when not a member; QS002 for a tenant owner.';

CREATE OR REPLACE FUNCTION auth.get_tenant_users(_tenant_id uuid, _include_inactive boolean DEFAULT false)
RETURNS TABLE (user_id uuid, username text, email text, display_name text, is_active boolean, joined_at timestamptz)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.assert_tenant(_tenant_id);
    PERFORM auth.assert_given(_include_inactive, '_include_inactive');
    RETURN QUERY
    SELECT u.user_id, u.username, u.email, u.display_name,
           tu.is_active AND u.is_active,
           tu.joined_at
      FROM auth.tenant_user tu
      JOIN auth.user_info u ON u.user_id = tu.user_id
     WHERE tu.tenant_id = _tenant_id
       AND (_include_inactive OR (tu.is_active AND u.is_active))
     ORDER BY u.display_name, u.username;
END;
$$;
COMMENT ON FUNCTION auth.get_tenant_users(uuid, boolean) IS
    'Members of a tenant ordered by display name. By default only active members who are active users; '
    'with _include_inactive, all of them (is_active is then false for an inactive membership or user).';

CREATE OR REPLACE FUNCTION auth.assign_tenant_owner(_tenant_id uuid, _user_id uuid)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    -- A new membership: the user first, then the tenant (see effective_access.sql, lock order).
    PERFORM auth.lock_users(ARRAY[_user_id]);
    PERFORM auth.lock_tenants(ARRAY[_tenant_id]);
    PERFORM auth.assert_tenant(_tenant_id);
    PERFORM auth.assert_user(_user_id);
    BEGIN
        -- An owner acts through a live membership: add it, or reactivate it.
        INSERT INTO auth.tenant_user AS tu (tenant_id, user_id)
        VALUES (_tenant_id, _user_id)
        ON CONFLICT (tenant_id, user_id) DO UPDATE SET is_active = true WHERE NOT tu.is_active;
    EXCEPTION WHEN foreign_key_violation THEN
        PERFORM auth.recheck_parents(_tenant_id, _user_id);  -- a parent deleted concurrently
        RAISE;
    END;
    -- Already an owner: the result holds, nothing to add (the reference calls this to make sure
    -- of an owner, not to fail when there is one).
    INSERT INTO auth.owner (tenant_id, user_id)
    VALUES (_tenant_id, _user_id)
    ON CONFLICT (tenant_id, user_id) WHERE user_group_id IS NULL DO NOTHING;
END;
$$;
COMMENT ON FUNCTION auth.assign_tenant_owner(uuid, uuid) IS
    'Makes the user an owner of the tenant (a tenant may have several), adding or reactivating the membership. '
    'Idempotent: assigning a current owner changes nothing (but reactivates an inactive membership). QN001, QN002.';

CREATE OR REPLACE FUNCTION auth.transfer_tenant_ownership(_tenant_id uuid, _new_owner_user_id uuid)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    -- A new membership: the user first, then the tenant (see effective_access.sql, lock order).
    PERFORM auth.lock_users(ARRAY[_new_owner_user_id]);
    PERFORM auth.lock_tenants(ARRAY[_tenant_id]);
    PERFORM auth.assert_tenant(_tenant_id);
    PERFORM auth.assert_given(_new_owner_user_id, '_new_owner_user_id');
    PERFORM auth.assert_user(_new_owner_user_id);
    BEGIN
        INSERT INTO auth.tenant_user AS tu (tenant_id, user_id)
        VALUES (_tenant_id, _new_owner_user_id)
        ON CONFLICT (tenant_id, user_id) DO UPDATE SET is_active = true WHERE NOT tu.is_active;
    EXCEPTION WHEN foreign_key_violation THEN
        PERFORM auth.recheck_parents(_tenant_id, _new_owner_user_id);  -- a parent deleted concurrently
        RAISE;
    END;

    DELETE FROM auth.owner o
     WHERE o.tenant_id = _tenant_id AND o.user_group_id IS NULL AND o.user_id <> _new_owner_user_id;
    INSERT INTO auth.owner (tenant_id, user_id)
    VALUES (_tenant_id, _new_owner_user_id)
    ON CONFLICT (tenant_id, user_id) WHERE user_group_id IS NULL DO NOTHING;
END;
$$;
COMMENT ON FUNCTION auth.transfer_tenant_ownership(uuid, uuid) IS
    'Makes the user the only tenant owner, replacing every other one (they stay members). '
    'Adds or reactivates the new owner''s membership. Group ownerships are unaffected.';

CREATE OR REPLACE FUNCTION auth.get_tenant_statistics(_tenant_id uuid)
RETURNS TABLE (tenant_name text, user_count bigint, group_count bigint,
               permission_set_count bigint, assignment_count bigint)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.assert_tenant(_tenant_id);
    -- Independent counts rather than one join, which would multiply rows before counting.
    RETURN QUERY
    SELECT t.name,
           (SELECT count(*) FROM auth.tenant_user tu WHERE tu.tenant_id = t.tenant_id AND tu.is_active),
           (SELECT count(*) FROM auth.user_group g WHERE g.tenant_id = t.tenant_id),
           (SELECT count(*) FROM auth.perm_set ps WHERE ps.tenant_id = t.tenant_id),
           (SELECT count(*) FROM auth.permission_assignment a WHERE a.tenant_id = t.tenant_id)
      FROM auth.tenant t
     WHERE t.tenant_id = _tenant_id;
END;
$$;
COMMENT ON FUNCTION auth.get_tenant_statistics(uuid) IS
    'Name of the tenant with its number of active memberships, groups, permission sets and assignments.';

-- For applications: they hold a tenant's code (from a URL, a configuration) and need its id
-- for every other call, without the right to read auth.tenant.
CREATE OR REPLACE FUNCTION auth.get_tenant_by_code(_code text)
RETURNS TABLE (tenant_id uuid, name text, code text, is_active boolean)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.assert_code(_code, '_code');
    RETURN QUERY
    SELECT t.tenant_id, t.name, t.code, t.is_active
      FROM auth.tenant t
     WHERE t.code = _code AND t.deleted_at IS NULL;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown tenant'
            USING ERRCODE = 'QN001',
                  DETAIL = format('No tenant has code %L.', _code),
                  HINT = 'Codes are case-sensitive; check the spelling.';
    END IF;
END;
$$;
COMMENT ON FUNCTION auth.get_tenant_by_code(text) IS
    'The tenant with that code (case-sensitive): its id, name, code and whether it is active; one row. '
    'An inactive tenant is returned too. QN001 when no tenant has the code, QI001 or QI003 for a blank or malformed code.';

CREATE OR REPLACE FUNCTION auth.tg_tenant_copy_templates()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    -- Every new tenant, however inserted, gets its own copy of each template set.
    WITH copied AS (
        INSERT INTO auth.perm_set (tenant_id, code, name, description)
        SELECT n.tenant_id, tpl.code, tpl.name, tpl.description
          FROM new_rows n
         CROSS JOIN auth.perm_set tpl
         WHERE tpl.tenant_id IS NULL
        RETURNING perm_set_id, code
    )
    INSERT INTO auth.perm_set_permission (perm_set_id, permission_id)
    SELECT c.perm_set_id, sp.permission_id
      FROM copied c
      JOIN auth.perm_set tpl ON tpl.tenant_id IS NULL AND tpl.code = c.code
      JOIN auth.perm_set_permission sp ON sp.perm_set_id = tpl.perm_set_id;
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION auth.tg_tenant_copy_templates() IS
    'Trigger (AFTER INSERT on auth.tenant, statement): copies every template permission set, with its codes, into the new tenants.';

-- Ownership is a set of facts: (tenant, user) for a tenant owner, (tenant, group, user) for a
-- group owner. Direct DML is held to that, so that the reference's statements work as written:
-- after create_tenant(_owner_user_id := A) and assign_tenant_owner(_user_id := B), its transfer
-- "UPDATE auth.owner SET user_id = C WHERE tenant_id = T" turns both rows into (T, C): one owner,
-- C, as auth.transfer_tenant_ownership leaves it, where the unique index would fail the second
-- row. A statement that cannot work (unknown tenant, user or group) fails with our SQLSTATE.
CREATE OR REPLACE FUNCTION auth.tg_owner_before_write()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (NEW.tenant_id, NEW.user_group_id, NEW.user_id)
                            IS NOT DISTINCT FROM (OLD.tenant_id, OLD.user_group_id, OLD.user_id) THEN
        RETURN NEW;
    END IF;
    -- What the foreign keys and NOT NULL would report with a constraint's name.
    PERFORM auth.assert_given(NEW.tenant_id, 'auth.owner.tenant_id');
    PERFORM auth.assert_given(NEW.user_id, 'auth.owner.user_id');
    PERFORM auth.assert_tenant(NEW.tenant_id);
    PERFORM auth.assert_user(NEW.user_id);
    IF NEW.user_group_id IS NOT NULL THEN
        PERFORM auth.assert_user_group(NEW.tenant_id, NEW.user_group_id);
    END IF;
    -- Owner changes of a tenant one at a time (the functions hold this stamp already), so two
    -- sessions adding the same ownership cannot both miss each other below.
    PERFORM auth.lock_tenants(ARRAY[NEW.tenant_id, CASE WHEN TG_OP = 'UPDATE' THEN OLD.tenant_id END]);

    -- An ownership that exists already is not made twice: an INSERT of it inserts nothing, and a
    -- row UPDATEd into it merges with it (the row goes, the existing one stays).
    IF EXISTS (SELECT FROM auth.owner o
                WHERE o.tenant_id = NEW.tenant_id AND o.user_id = NEW.user_id
                  AND o.user_group_id IS NOT DISTINCT FROM NEW.user_group_id
                  AND o.owner_id <> CASE WHEN TG_OP = 'UPDATE' THEN OLD.owner_id ELSE NEW.owner_id END) THEN
        IF TG_OP = 'UPDATE' THEN
            DELETE FROM auth.owner o WHERE o.owner_id = OLD.owner_id;
        END IF;
        RETURN NULL;
    END IF;

    -- An owner, of the tenant or of a group, acts through a membership (owner_member_fkey):
    -- direct DML naming a new owner adds the one it lacks, as auth.assign_tenant_owner does,
    -- whatever order the statement meets its rows in. An inactive membership is left as it is:
    -- that owner fails every check until it is reactivated.
    INSERT INTO auth.tenant_user (tenant_id, user_id)
    VALUES (NEW.tenant_id, NEW.user_id)
    ON CONFLICT (tenant_id, user_id) DO NOTHING;
    RETURN NEW;
END;
$$;
COMMENT ON FUNCTION auth.tg_owner_before_write() IS
    'Trigger (BEFORE INSERT/UPDATE on auth.owner, row): QI001, QN001, QN002, QN005 for a missing or unknown tenant, '
    'user or group; skips an INSERT of an existing ownership and merges a row UPDATEd into one (so the reference''s '
    'transfer works with several owners); adds the membership a new owner lacks.';
