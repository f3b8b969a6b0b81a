-- Internal helpers: argument validation shared by the API functions, and small generic
-- trigger functions. Not part of the API; each raises one of our documented SQLSTATEs.

-- Blank means: nothing but whitespace, control or invisible format characters. btrim alone
-- removes only spaces, so a name of tabs, newlines, no-break spaces or zero-width characters
-- would pass for a name while showing nothing. The same character class is written into the
-- CHECK constraints of migrations/0003_length_limits.sql (a migration cannot depend on this
-- file): keep the two in step.
CREATE OR REPLACE FUNCTION auth.is_blank(_value text)
RETURNS boolean
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
SET search_path = ''
RETURN _value OPERATOR(pg_catalog.!~)
    '[^\u0001-\u0020\u007f-\u00a0\u00ad\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff]';
COMMENT ON FUNCTION auth.is_blank(text) IS
    'Internal: true when the text is empty or made only of whitespace, control and invisible format characters '
    '(tabs, newlines, no-break and ideographic spaces, zero-width characters, bidi marks); NULL for NULL.';

CREATE OR REPLACE FUNCTION auth.assert_given(_value anyelement, _argument text)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
    -- The text form is blank only for blank strings, so one check serves every type.
    IF _value IS NULL OR auth.is_blank(_value::text) THEN
        RAISE EXCEPTION 'missing argument %', _argument
            USING ERRCODE = 'QI001',
                  DETAIL = format('Argument %s is NULL, empty or blank (only whitespace or invisible characters).', _argument),
                  HINT = 'Pass a non-empty value.';
    END IF;
END;
$$;
COMMENT ON FUNCTION auth.assert_given(anyelement, text) IS
    'Internal: raises QI001 when the named argument is NULL or blank (see auth.is_blank).';

CREATE OR REPLACE FUNCTION auth.assert_username(_username text)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.assert_given(_username, '_username');
    -- The unique index on lower(username) cannot hold much more than 2,700 bytes; a clear
    -- limit well below it, in characters.
    IF char_length(_username) > 255 THEN
        RAISE EXCEPTION 'username too long'
            USING ERRCODE = 'QI008',
                  DETAIL = format('The username has %s characters; the limit is 255.', char_length(_username)),
                  HINT = 'Use a username of at most 255 characters.';
    END IF;
    -- Usernames are identities: 'alice ' would look like 'alice' in every list while being
    -- another account, so edges must be visible characters. Other names are stored exactly.
    IF _username ~ '^[\u0001-\u0020\u007f-\u00a0\u00ad\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff]'
       OR _username ~ '[\u0001-\u0020\u007f-\u00a0\u00ad\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff]$' THEN
        RAISE EXCEPTION 'invalid username'
            USING ERRCODE = 'QI008',
                  DETAIL = format('Username %L starts or ends with whitespace or an invisible character.', _username),
                  HINT = 'Trim the username.';
    END IF;
END;
$$;
COMMENT ON FUNCTION auth.assert_username(text) IS
    'Internal: validates a username: QI001 when blank, QI008 when it starts or ends with whitespace '
    'or an invisible character, or is longer than 255 characters.';

CREATE OR REPLACE FUNCTION auth.assert_preference_key(_preference_key text)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.assert_given(_preference_key, '_preference_key');
    -- The key is part of the primary key, whose index cannot hold much more than 2,700 bytes.
    IF char_length(_preference_key) > 255 THEN
        RAISE EXCEPTION 'preference key too long'
            USING ERRCODE = 'QI008',
                  DETAIL = format('The preference key has %s characters; the limit is 255.', char_length(_preference_key)),
                  HINT = 'Use a key of at most 255 characters; values have no such limit.';
    END IF;
END;
$$;
COMMENT ON FUNCTION auth.assert_preference_key(text) IS
    'Internal: validates a preference key: QI001 when blank, QI008 when longer than 255 characters.';

CREATE OR REPLACE FUNCTION auth.assert_code(_code text, _argument text)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.assert_given(_code, _argument);
    IF _code !~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$' THEN
        RAISE EXCEPTION 'invalid code'
            USING ERRCODE = 'QI003',
                  DETAIL = format('%s %L does not match ^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$.', _argument, _code),
                  HINT = 'Use 1 to 63 letters, digits, _ or -, starting with a letter or digit (e.g. ACME-INTL).';
    END IF;
END;
$$;
COMMENT ON FUNCTION auth.assert_code(text, text) IS
    'Internal: validates a tenant, permission set or group code (QI001 when blank, QI003 when malformed).';

CREATE OR REPLACE FUNCTION auth.assert_tenant(_tenant_id uuid)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    _deleted_at timestamptz;
BEGIN
    PERFORM auth.assert_given(_tenant_id, '_tenant_id');
    SELECT t.deleted_at INTO _deleted_at FROM auth.tenant t WHERE t.tenant_id = _tenant_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown tenant'
            USING ERRCODE = 'QN001',
                  DETAIL = format('No tenant has id %s.', _tenant_id),
                  HINT = 'Check the id; auth.create_tenant returns it.';
    END IF;
    -- A deleted tenant is no tenant, until it is restored.
    IF _deleted_at IS NOT NULL THEN
        RAISE EXCEPTION 'unknown tenant'
            USING ERRCODE = 'QN001',
                  DETAIL = format('Tenant %s was deleted at %s.', _tenant_id, _deleted_at),
                  HINT = 'auth.restore_tenant brings it back, until auth.purge_deleted_tenants removes it.';
    END IF;
END;
$$;
COMMENT ON FUNCTION auth.assert_tenant(uuid) IS 'Internal: raises QI001 for NULL, QN001 for an unknown or a deleted tenant.';

CREATE OR REPLACE FUNCTION auth.assert_user(_user_id uuid)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.assert_given(_user_id, '_user_id');
    IF NOT EXISTS (SELECT FROM auth.user_info u WHERE u.user_id = _user_id) THEN
        RAISE EXCEPTION 'unknown user'
            USING ERRCODE = 'QN002',
                  DETAIL = format('No user has id %s.', _user_id),
                  HINT = 'Check the id; auth.create_user returns it.';
    END IF;
END;
$$;
COMMENT ON FUNCTION auth.assert_user(uuid) IS 'Internal: raises QI001 for NULL, QN002 for an unknown user.';

CREATE OR REPLACE FUNCTION auth.assert_tenant_member(_tenant_id uuid, _user_id uuid)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
    -- An inactive membership still counts: it is a row the foreign keys can reference.
    IF NOT EXISTS (SELECT FROM auth.tenant_user tu
                    WHERE tu.tenant_id = _tenant_id AND tu.user_id = _user_id) THEN
        RAISE EXCEPTION 'not a tenant member'
            USING ERRCODE = 'QN006',
                  DETAIL = format('User %s is not a member of tenant %s.', _user_id, _tenant_id),
                  HINT = 'Add the user to the tenant first with auth.add_user_to_tenant.';
    END IF;
END;
$$;
COMMENT ON FUNCTION auth.assert_tenant_member(uuid, uuid) IS
    'Internal: raises QN006 unless the user has a membership (active or not) in the tenant.';

CREATE OR REPLACE FUNCTION auth.assert_user_group(_tenant_id uuid, _user_group_id uuid)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.assert_given(_user_group_id, '_user_group_id');
    -- A group of another tenant is unknown here.
    IF NOT EXISTS (SELECT FROM auth.user_group g
                    WHERE g.tenant_id = _tenant_id AND g.user_group_id = _user_group_id) THEN
        RAISE EXCEPTION 'unknown user group'
            USING ERRCODE = 'QN005',
                  DETAIL = format('Tenant %s has no user group with id %s.', _tenant_id, _user_group_id),
                  HINT = 'Groups belong to one tenant: check both ids.';
    END IF;
END;
$$;
COMMENT ON FUNCTION auth.assert_user_group(uuid, uuid) IS
    'Internal: raises QI001 for NULL, QN005 unless the group exists in that tenant.';

CREATE OR REPLACE FUNCTION auth.find_perm_set(_tenant_id uuid, _perm_set_code text)
RETURNS uuid
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    _perm_set_id uuid;
BEGIN
    PERFORM auth.assert_given(_perm_set_code, '_perm_set_code');
    -- Two queries rather than IS NOT DISTINCT FROM, which no index can serve.
    IF _tenant_id IS NULL THEN
        SELECT ps.perm_set_id INTO _perm_set_id
          FROM auth.perm_set ps
         WHERE ps.tenant_id IS NULL AND ps.code = _perm_set_code;
    ELSE
        SELECT ps.perm_set_id INTO _perm_set_id
          FROM auth.perm_set ps
         WHERE ps.tenant_id = _tenant_id AND ps.code = _perm_set_code;
    END IF;
    IF _perm_set_id IS NULL THEN
        RAISE EXCEPTION 'unknown permission set'
            USING ERRCODE = 'QN004',
                  DETAIL = CASE WHEN _tenant_id IS NULL
                                THEN format('There is no template permission set %L.', _perm_set_code)
                                ELSE format('Tenant %s has no permission set %L.', _tenant_id, _perm_set_code) END,
                  HINT = 'Sets belong to one tenant: create one with auth.create_perm_set or copy one with auth.duplicate_perm_set.';
    END IF;
    RETURN _perm_set_id;
END;
$$;
COMMENT ON FUNCTION auth.find_perm_set(uuid, text) IS
    'Internal: id of the tenant''s set with that code (a template when _tenant_id is NULL); QI001 or QN004 otherwise.';

CREATE OR REPLACE FUNCTION auth.assert_perm_code(_perm_code text)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.assert_given(_perm_code, '_perm_code');
    -- At most 255 characters: ltree refuses longer labels, and the unique indexes on the code
    -- cannot hold much more than 2,700 bytes.
    IF _perm_code !~ '^[a-z0-9_]+(\.[a-z0-9_]+)*$' OR char_length(_perm_code) > 255 THEN
        RAISE EXCEPTION 'invalid permission code'
            USING ERRCODE = 'QI002',
                  DETAIL = CASE WHEN char_length(_perm_code) > 255
                                THEN format('The permission code has %s characters; the limit is 255.', char_length(_perm_code))
                                ELSE format('Permission code %L does not match ^[a-z0-9_]+(\.[a-z0-9_]+)*$.', _perm_code) END,
                  HINT = 'Use at most 255 characters in dot-separated lower-case segments of letters, digits and _, e.g. users.create_user.';
    END IF;
END;
$$;
COMMENT ON FUNCTION auth.assert_perm_code(text) IS
    'Internal: validates the format of a permission code (QI001 when blank, QI002 when malformed or longer than 255 characters).';

CREATE OR REPLACE FUNCTION auth.assert_page_size(_page_size integer)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.assert_given(_page_size, '_page_size');
    -- Bounded, so one call cannot read a whole tenant into memory: page through instead.
    IF _page_size NOT BETWEEN 1 AND 500 THEN
        RAISE EXCEPTION 'invalid page size'
            USING ERRCODE = 'QI009',
                  DETAIL = format('_page_size is %s; it must be 1 to 500.', _page_size),
                  HINT = 'Ask for at most 500 rows, and pass the last row''s key as _after for the next page.';
    END IF;
END;
$$;
COMMENT ON FUNCTION auth.assert_page_size(integer) IS
    'Internal: raises QI001 for a NULL page size, QI009 unless it is 1 to 500 (the auth.list_* functions).';

-- The cursor of the lists in creation order: the last row's created_at and id, or neither.
CREATE OR REPLACE FUNCTION auth.assert_cursor(_after_created_at timestamptz, _after_id uuid, _id_column text)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
SET search_path = ''
AS $$
BEGIN
    IF (_after_created_at IS NULL) <> (_after_id IS NULL) THEN
        RAISE EXCEPTION 'incomplete cursor'
            USING ERRCODE = 'QI009',
                  DETAIL = format('_after_created_at and _after_%s go together: both NULL (first page) or both given.', _id_column),
                  HINT = format('Pass the created_at and %s of the last row of the previous page.', _id_column);
    END IF;
END;
$$;
COMMENT ON FUNCTION auth.assert_cursor(timestamptz, uuid, text) IS
    'Internal: raises QI009 unless both or neither of a list''s _after_created_at and _after_<id column> are given.';

-- SECURITY DEFINER: the application role reaches it from auth.has_permission, and it calls
-- helpers that role cannot.
CREATE OR REPLACE FUNCTION auth.raise_permission_not_found(_perm_code text)
RETURNS void
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    -- Say why the code was not found: missing, malformed, or well-formed but not in the catalogue.
    PERFORM auth.assert_perm_code(_perm_code);
    RAISE EXCEPTION 'unknown permission'
        USING ERRCODE = 'QN003',
              DETAIL = format('Permission code %L is not in the catalogue.', _perm_code),
              HINT = 'Check the spelling, or add it with auth.create_permission.';
END;
$$;
COMMENT ON FUNCTION auth.raise_permission_not_found(text) IS
    'Internal: always raises, for a code that was not found: QI001 (blank), QI002 (malformed) or QN003 (unknown).';

CREATE OR REPLACE FUNCTION auth.find_permission(_perm_code text)
RETURNS uuid
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    _permission_id uuid;
BEGIN
    SELECT p.permission_id INTO _permission_id FROM auth.permission p WHERE p.code::text = _perm_code;
    IF _permission_id IS NULL THEN
        PERFORM auth.raise_permission_not_found(_perm_code);
    END IF;
    RETURN _permission_id;
END;
$$;
COMMENT ON FUNCTION auth.find_permission(text) IS
    'Internal: id of the catalogue code; QI001, QI002 or QN003 otherwise.';

CREATE OR REPLACE FUNCTION auth.find_permissions(_perm_codes text[])
RETURNS uuid[]
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    _missing text;
BEGIN
    IF _perm_codes IS NULL OR cardinality(_perm_codes) = 0 THEN
        PERFORM auth.assert_given(NULL::text, '_perm_codes');
    END IF;
    -- Report the first code (in argument order) that is not in the catalogue.
    SELECT c.code INTO _missing
      FROM unnest(_perm_codes) WITH ORDINALITY AS c(code, ord)
     WHERE NOT EXISTS (SELECT FROM auth.permission p WHERE p.code::text = c.code)
     ORDER BY c.ord
     LIMIT 1;
    IF FOUND THEN
        PERFORM auth.raise_permission_not_found(_missing);
    END IF;
    RETURN ARRAY(SELECT DISTINCT p.permission_id
                   FROM auth.permission p
                  WHERE p.code::text = ANY (_perm_codes));
END;
$$;
COMMENT ON FUNCTION auth.find_permissions(text[]) IS
    'Internal: ids of all the catalogue codes given; raises for the first blank, malformed or unknown one, or for an empty array.';

-- Generic trigger functions ---------------------------------------------------------

CREATE OR REPLACE FUNCTION auth.tg_touch_updated_at()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    -- Only real changes move updated_at, so a no-op UPDATE stays a no-op.
    IF NEW IS DISTINCT FROM OLD THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END;
$$;
COMMENT ON FUNCTION auth.tg_touch_updated_at() IS
    'Trigger: sets updated_at on every real change, including direct UPDATEs.';

CREATE OR REPLACE FUNCTION auth.tg_immutable_columns()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    _old jsonb := to_jsonb(OLD);
    _new jsonb := to_jsonb(NEW);
    _column text;
BEGIN
    FOREACH _column IN ARRAY TG_ARGV LOOP
        IF _old -> _column IS DISTINCT FROM _new -> _column THEN
            RAISE EXCEPTION 'immutable column'
                USING ERRCODE = 'QS003',
                      DETAIL = format('%s.%s cannot change (from %s to %s).',
                                      TG_TABLE_NAME, _column, _old -> _column, _new -> _column),
                      HINT = 'Create a new row and delete the old one instead.';
        END IF;
    END LOOP;
    RETURN NEW;
END;
$$;
COMMENT ON FUNCTION auth.tg_immutable_columns() IS
    'Trigger: refuses (QS003) an UPDATE that changes any of the columns named as trigger arguments.';

-- Parents deleted concurrently -------------------------------------------------------

CREATE OR REPLACE FUNCTION auth.recheck_parents(
    _tenant_id     uuid DEFAULT NULL,
    _user_id       uuid DEFAULT NULL,
    _user_group_id uuid DEFAULT NULL,
    _membership    boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    -- Called from a foreign_key_violation handler. A function checks the parents of the row
    -- it inserts, then the insert's foreign key check waits for a transaction deleting one of
    -- them and fails once it commits. Under READ COMMITTED this new statement sees that
    -- commit, so the same checks now raise the documented error; when they all pass, the
    -- caller re-raises the original error. Each check runs only for the arguments given.
    IF _tenant_id IS NOT NULL THEN
        PERFORM auth.assert_tenant(_tenant_id);
    END IF;
    IF _user_group_id IS NOT NULL THEN
        PERFORM auth.assert_user_group(_tenant_id, _user_group_id);
    END IF;
    IF _user_id IS NOT NULL THEN
        PERFORM auth.assert_user(_user_id);
    END IF;
    IF _membership THEN
        PERFORM auth.assert_tenant_member(_tenant_id, _user_id);
    END IF;
END;
$$;
COMMENT ON FUNCTION auth.recheck_parents(uuid, uuid, uuid, boolean) IS
    'Internal: after a foreign_key_violation, re-checks the tenant (QN001), group (QN005), user (QN002) and, '
    'with _membership, the membership (QN006) a new row referred to; returns when all exist, for the caller to re-raise.';
