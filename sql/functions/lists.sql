-- Lists of a tenant's users, groups, members, sets, their codes and assignments, and of the
-- catalogue: for applications and for the tenant API's paged routes.
--
-- Every auth.list_* function pages by key (keyset paging), the same way:
--   _page_size  at most this many rows: 1 to 500, default 50 (QI009 otherwise);
--   _after      the sort key of the last row of the previous page; NULL for the first page.
-- Rows come in one documented total order, and a page starts strictly after _after, so a page
-- costs the same wherever it is, and rows inserted or deleted between two calls never make the
-- next page repeat or skip a row that was there all along. An empty page is the end.
-- Codes and usernames sort by byte (COLLATE "C"): the same order in every database, whatever
-- its collation; usernames ignoring case, as they are unique ignoring case. Assignments have
-- no such key and sort by (created_at, assignment_id), passed back as two _after_* arguments.
--
-- auth.get_tenant_users stays as it was: the whole list in the reference's order (display name).
--
-- auth.get_tenant_user, auth.get_user_group and auth.get_perm_set read one row of a list by its
-- key, with the list's columns: what a screen or an API shows after a click, and compares
-- before an update.

CREATE OR REPLACE FUNCTION auth.list_tenant_users(
    _tenant_id uuid,
    _search    text DEFAULT NULL,
    _is_active boolean DEFAULT NULL,
    _page_size integer DEFAULT 50,
    _after     text DEFAULT NULL)
RETURNS TABLE (user_id uuid, username text, email text, display_name text, is_active boolean, joined_at timestamptz)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.assert_tenant(_tenant_id);
    IF _search IS NOT NULL THEN
        PERFORM auth.assert_given(_search, '_search');
    END IF;
    PERFORM auth.assert_page_size(_page_size);
    -- strpos rather than LIKE: a % or _ typed into a search box is a character, not a wildcard.
    RETURN QUERY
    SELECT u.user_id, u.username, u.email, u.display_name,
           tu.is_active AND u.is_active,
           tu.joined_at
      FROM auth.tenant_user tu
      JOIN auth.user_info u ON u.user_id = tu.user_id
     WHERE tu.tenant_id = _tenant_id
       AND (_is_active IS NULL OR (tu.is_active AND u.is_active) = _is_active)
       AND (_search IS NULL
            OR strpos(lower(u.username), lower(_search)) > 0
            OR strpos(lower(u.email), lower(_search)) > 0
            OR strpos(lower(u.display_name), lower(_search)) > 0)
       AND (_after IS NULL OR lower(u.username) COLLATE "C" > lower(_after) COLLATE "C")
     ORDER BY lower(u.username) COLLATE "C"
     LIMIT _page_size;
END;
$$;
COMMENT ON FUNCTION auth.list_tenant_users(uuid, text, boolean, integer, text) IS
    'A page of the members of a tenant, by username ignoring case; _after is the last username of the previous page. '
    '_search keeps those whose username, email or display name contains it (ignoring case; NULL: all); _is_active '
    'true keeps live members (membership and user active), false the others, NULL all. QN001, QI001, QI009.';

CREATE OR REPLACE FUNCTION auth.get_tenant_user(_tenant_id uuid, _user_id uuid)
RETURNS TABLE (user_id uuid, username text, email text, display_name text, is_active boolean, joined_at timestamptz)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.assert_tenant(_tenant_id);
    PERFORM auth.assert_user(_user_id);
    -- A user of another tenant is not this tenant's to show.
    PERFORM auth.assert_tenant_member(_tenant_id, _user_id);
    RETURN QUERY
    SELECT u.user_id, u.username, u.email, u.display_name,
           tu.is_active AND u.is_active,
           tu.joined_at
      FROM auth.tenant_user tu
      JOIN auth.user_info u ON u.user_id = tu.user_id
     WHERE tu.tenant_id = _tenant_id AND tu.user_id = _user_id;
END;
$$;
COMMENT ON FUNCTION auth.get_tenant_user(uuid, uuid) IS
    'One member of a tenant, with the columns of auth.list_tenant_users (is_active: membership and user both active). '
    'QN001, QN002, QN006 for a user who is not a member (active or not).';

CREATE OR REPLACE FUNCTION auth.list_user_groups(
    _tenant_id uuid,
    _page_size integer DEFAULT 50,
    _after     text DEFAULT NULL)
RETURNS TABLE (user_group_id uuid, code text, name text, is_active boolean, member_count bigint,
               created_at timestamptz, updated_at timestamptz)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.assert_tenant(_tenant_id);
    PERFORM auth.assert_page_size(_page_size);
    RETURN QUERY
    SELECT g.user_group_id, g.code, g.name, g.is_active,
           (SELECT count(*) FROM auth.user_group_member m WHERE m.user_group_id = g.user_group_id),
           g.created_at, g.updated_at
      FROM auth.user_group g
     WHERE g.tenant_id = _tenant_id
       AND (_after IS NULL OR g.code COLLATE "C" > _after COLLATE "C")
     ORDER BY g.code COLLATE "C"
     LIMIT _page_size;
END;
$$;
COMMENT ON FUNCTION auth.list_user_groups(uuid, integer, text) IS
    'A page of the groups of a tenant, active or not, by code; _after is the last code of the previous page. QN001, QI009.';

CREATE OR REPLACE FUNCTION auth.get_user_group(_tenant_id uuid, _user_group_id uuid)
RETURNS TABLE (user_group_id uuid, code text, name text, is_active boolean, member_count bigint,
               created_at timestamptz, updated_at timestamptz)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.assert_tenant(_tenant_id);
    PERFORM auth.assert_user_group(_tenant_id, _user_group_id);
    RETURN QUERY
    SELECT g.user_group_id, g.code, g.name, g.is_active,
           (SELECT count(*) FROM auth.user_group_member m WHERE m.user_group_id = g.user_group_id),
           g.created_at, g.updated_at
      FROM auth.user_group g
     WHERE g.user_group_id = _user_group_id;
END;
$$;
COMMENT ON FUNCTION auth.get_user_group(uuid, uuid) IS
    'One group of a tenant, with the columns of auth.list_user_groups. QN001, QN005 (a group of another tenant too).';

CREATE OR REPLACE FUNCTION auth.list_group_owners(
    _tenant_id     uuid,
    _user_group_id uuid,
    _page_size     integer DEFAULT 50,
    _after         text DEFAULT NULL)
RETURNS TABLE (user_id uuid, username text, email text, display_name text, is_active boolean, added_at timestamptz)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.assert_tenant(_tenant_id);
    PERFORM auth.assert_user_group(_tenant_id, _user_group_id);
    PERFORM auth.assert_page_size(_page_size);
    RETURN QUERY
    SELECT u.user_id, u.username, u.email, u.display_name,
           tu.is_active AND u.is_active,
           o.created_at
      FROM auth.owner o
      JOIN auth.tenant_user tu ON tu.tenant_id = o.tenant_id AND tu.user_id = o.user_id
      JOIN auth.user_info u    ON u.user_id = o.user_id
     WHERE o.user_group_id = _user_group_id
       AND (_after IS NULL OR lower(u.username) COLLATE "C" > lower(_after) COLLATE "C")
     ORDER BY lower(u.username) COLLATE "C"
     LIMIT _page_size;
END;
$$;
COMMENT ON FUNCTION auth.list_group_owners(uuid, uuid, integer, text) IS
    'A page of the owners of a group, by username ignoring case (added_at: since when they own it); _after is the last '
    'username of the previous page. '
    'is_active: the membership of the tenant and the user are both active. QN005 for a group of another tenant, QI009.';

CREATE OR REPLACE FUNCTION auth.list_group_members(
    _tenant_id     uuid,
    _user_group_id uuid,
    _page_size     integer DEFAULT 50,
    _after         text DEFAULT NULL)
RETURNS TABLE (user_id uuid, username text, email text, display_name text, is_active boolean, added_at timestamptz)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.assert_tenant(_tenant_id);
    PERFORM auth.assert_user_group(_tenant_id, _user_group_id);
    PERFORM auth.assert_page_size(_page_size);
    RETURN QUERY
    SELECT u.user_id, u.username, u.email, u.display_name,
           tu.is_active AND u.is_active,
           m.created_at
      FROM auth.user_group_member m
      JOIN auth.tenant_user tu ON tu.tenant_id = m.tenant_id AND tu.user_id = m.user_id
      JOIN auth.user_info u    ON u.user_id = m.user_id
     WHERE m.user_group_id = _user_group_id
       AND (_after IS NULL OR lower(u.username) COLLATE "C" > lower(_after) COLLATE "C")
     ORDER BY lower(u.username) COLLATE "C"
     LIMIT _page_size;
END;
$$;
COMMENT ON FUNCTION auth.list_group_members(uuid, uuid, integer, text) IS
    'A page of the members of a group, by username ignoring case; _after is the last username of the previous page. '
    'is_active: the membership of the tenant and the user are both active. QN005 for a group of another tenant, QI009.';

CREATE OR REPLACE FUNCTION auth.list_perm_sets(
    _tenant_id uuid,
    _page_size integer DEFAULT 50,
    _after     text DEFAULT NULL)
RETURNS TABLE (perm_set_id uuid, code text, name text, description text, permission_count bigint,
               assignment_count bigint, created_at timestamptz, updated_at timestamptz)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    IF _tenant_id IS NOT NULL THEN
        PERFORM auth.assert_tenant(_tenant_id);
    END IF;
    PERFORM auth.assert_page_size(_page_size);
    -- NULL names the templates, as in auth.create_perm_set. Written as an OR of two indexable
    -- conditions rather than IS NOT DISTINCT FROM, which no index can serve.
    RETURN QUERY
    SELECT ps.perm_set_id, ps.code, ps.name, ps.description,
           (SELECT count(*) FROM auth.perm_set_permission sp WHERE sp.perm_set_id = ps.perm_set_id),
           (SELECT count(*) FROM auth.permission_assignment a WHERE a.perm_set_id = ps.perm_set_id),
           ps.created_at, ps.updated_at
      FROM auth.perm_set ps
     WHERE (ps.tenant_id = _tenant_id OR (ps.tenant_id IS NULL AND _tenant_id IS NULL))
       AND (_after IS NULL OR ps.code COLLATE "C" > _after COLLATE "C")
     ORDER BY ps.code COLLATE "C"
     LIMIT _page_size;
END;
$$;
COMMENT ON FUNCTION auth.list_perm_sets(uuid, integer, text) IS
    'A page of the permission sets of a tenant (_tenant_id NULL: the templates), by code; _after is the last code of '
    'the previous page. With the number of codes in each and of its assignments. QN001, QI009.';

CREATE OR REPLACE FUNCTION auth.get_perm_set(_tenant_id uuid, _perm_set_code text)
RETURNS TABLE (perm_set_id uuid, code text, name text, description text, permission_count bigint,
               assignment_count bigint, created_at timestamptz, updated_at timestamptz)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _perm_set_id uuid;
BEGIN
    IF _tenant_id IS NOT NULL THEN
        PERFORM auth.assert_tenant(_tenant_id);
    END IF;
    _perm_set_id := auth.find_perm_set(_tenant_id, _perm_set_code);
    RETURN QUERY
    SELECT ps.perm_set_id, ps.code, ps.name, ps.description,
           (SELECT count(*) FROM auth.perm_set_permission sp WHERE sp.perm_set_id = ps.perm_set_id),
           (SELECT count(*) FROM auth.permission_assignment a WHERE a.perm_set_id = ps.perm_set_id),
           ps.created_at, ps.updated_at
      FROM auth.perm_set ps
     WHERE ps.perm_set_id = _perm_set_id;
END;
$$;
COMMENT ON FUNCTION auth.get_perm_set(uuid, text) IS
    'One permission set of a tenant (_tenant_id NULL: a template), with the columns of auth.list_perm_sets. '
    'QN001, QI001, QN004 (a set of another tenant too).';

CREATE OR REPLACE FUNCTION auth.list_perm_set_permissions(
    _tenant_id     uuid,
    _perm_set_code text,
    _page_size     integer DEFAULT 50,
    _after         text DEFAULT NULL)
RETURNS TABLE (perm_code text, name text, description text)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _perm_set_id uuid;
BEGIN
    IF _tenant_id IS NOT NULL THEN
        PERFORM auth.assert_tenant(_tenant_id);
    END IF;
    _perm_set_id := auth.find_perm_set(_tenant_id, _perm_set_code);
    PERFORM auth.assert_page_size(_page_size);
    RETURN QUERY
    SELECT p.code::text, p.name, p.description
      FROM auth.perm_set_permission sp
      JOIN auth.permission p ON p.permission_id = sp.permission_id
     WHERE sp.perm_set_id = _perm_set_id
       AND (_after IS NULL OR p.code::text COLLATE "C" > _after COLLATE "C")
     ORDER BY p.code::text COLLATE "C"
     LIMIT _page_size;
END;
$$;
COMMENT ON FUNCTION auth.list_perm_set_permissions(uuid, text, integer, text) IS
    'A page of the codes in a permission set (_tenant_id NULL: a template), by code; _after is the last code of the '
    'previous page. Each code also grants its descendants, which are not listed. QN004 for a set of another tenant, QI009.';

CREATE OR REPLACE FUNCTION auth.list_permission_assignments(
    _tenant_id           uuid,
    _user_id             uuid DEFAULT NULL,
    _user_group_id       uuid DEFAULT NULL,
    _perm_set_code       text DEFAULT NULL,
    _page_size           integer DEFAULT 50,
    _after_created_at    timestamptz DEFAULT NULL,
    _after_assignment_id uuid DEFAULT NULL)
RETURNS TABLE (assignment_id uuid, user_id uuid, username text, user_group_id uuid, user_group_code text,
               perm_set_id uuid, perm_set_code text, perm_code text, created_at timestamptz)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _perm_set_id uuid;
BEGIN
    PERFORM auth.assert_tenant(_tenant_id);
    -- Each filter names something of this tenant: another tenant's is unknown here.
    IF _user_id IS NOT NULL THEN
        PERFORM auth.assert_user(_user_id);
        PERFORM auth.assert_tenant_member(_tenant_id, _user_id);
    END IF;
    IF _user_group_id IS NOT NULL THEN
        PERFORM auth.assert_user_group(_tenant_id, _user_group_id);
    END IF;
    IF _perm_set_code IS NOT NULL THEN
        _perm_set_id := auth.find_perm_set(_tenant_id, _perm_set_code);
    END IF;
    PERFORM auth.assert_page_size(_page_size);
    PERFORM auth.assert_cursor(_after_created_at, _after_assignment_id, 'assignment_id');
    RETURN QUERY
    SELECT a.assignment_id, a.user_id, u.username, a.user_group_id, g.code,
           a.perm_set_id, ps.code, p.code::text, a.created_at
      FROM auth.permission_assignment a
      LEFT JOIN auth.user_info u  ON u.user_id = a.user_id
      LEFT JOIN auth.user_group g ON g.user_group_id = a.user_group_id
      LEFT JOIN auth.perm_set ps  ON ps.perm_set_id = a.perm_set_id
      LEFT JOIN auth.permission p ON p.permission_id = a.permission_id
     WHERE a.tenant_id = _tenant_id
       AND (_user_id IS NULL OR a.user_id = _user_id)
       AND (_user_group_id IS NULL OR a.user_group_id = _user_group_id)
       AND (_perm_set_id IS NULL OR a.perm_set_id = _perm_set_id)
       AND (_after_created_at IS NULL OR (a.created_at, a.assignment_id) > (_after_created_at, _after_assignment_id))
     ORDER BY a.created_at, a.assignment_id
     LIMIT _page_size;
END;
$$;
COMMENT ON FUNCTION auth.list_permission_assignments(uuid, uuid, uuid, text, integer, timestamptz, uuid) IS
    'A page of the assignments of a tenant, oldest first (created_at, then assignment_id; pass the last row''s as '
    '_after_created_at and _after_assignment_id), each with its grantee (user or group) and grant (set or code). '
    'Filters, combined: _user_id (its direct assignments, not those of its groups), _user_group_id, _perm_set_code. '
    'QN002, QN006, QN005, QN004 for a filter that names nothing of the tenant; QI009.';

CREATE OR REPLACE FUNCTION auth.list_permissions(
    _page_size integer DEFAULT 50,
    _after     text DEFAULT NULL)
RETURNS TABLE (permission_id uuid, perm_code text, name text, description text, parent_code text, depth integer)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.assert_page_size(_page_size);
    -- Byte order of the codes is a depth-first walk of the tree: a parent is a prefix of its
    -- descendants, and '.', which follows it in them, sorts before every other character a
    -- code may hold, so all of a code's descendants come right after it, before its next sibling.
    RETURN QUERY
    SELECT p.permission_id, p.code::text, p.name, p.description,
           nullif(regexp_replace(p.code::text, '\.?[^.]*$', ''), ''),
           cardinality(p.ancestor_nos)
      FROM auth.permission p
     WHERE _after IS NULL OR p.code::text COLLATE "C" > _after COLLATE "C"
     ORDER BY p.code::text COLLATE "C"
     LIMIT _page_size;
END;
$$;
COMMENT ON FUNCTION auth.list_permissions(integer, text) IS
    'A page of the permission catalogue as a tree, depth first: each code with its name, description, parent code '
    '(NULL at the top) and depth (1 at the top), every code before its descendants; _after is the last code of the '
    'previous page. QI009.';
