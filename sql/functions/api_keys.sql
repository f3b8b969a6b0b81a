-- API keys: a service or a script calls a tenant's API with a key instead of a password.
-- The secret is returned once by auth.create_api_key and never stored: the table keeps its
-- keyed hash (auth.secret_hash). A key acts as its technical user, a
-- member of the tenant created for it and given the key's set or codes, so every check and
-- every audit row treats it like any member; revoking the key deactivates that membership, so
-- nothing the key held is granted any more, at once.

CREATE OR REPLACE FUNCTION auth.create_api_key(
    _tenant_id     uuid,
    _name          text,
    _expires_at    timestamptz,
    _perm_set_code text DEFAULT NULL,
    _perm_codes    text[] DEFAULT NULL)
RETURNS TABLE (api_key_id uuid, user_id uuid, api_key text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _secret text := auth.new_secret('pgpk_');
    _user_id uuid;
    _api_key_id uuid;
    _code text;
BEGIN
    PERFORM auth.assert_tenant(_tenant_id);
    PERFORM auth.assert_given(_name, '_name');
    PERFORM auth.assert_given(_expires_at, '_expires_at');
    IF length(_name) > 200 THEN
        RAISE EXCEPTION 'name too long'
            USING ERRCODE = 'QI008',
                  DETAIL = format('The key''s name is %s characters long; at most 200 are allowed.', length(_name)),
                  HINT = 'Name the service or script that uses the key.';
    END IF;
    IF _expires_at <= now() THEN
        RAISE EXCEPTION 'expiry in the past'
            USING ERRCODE = 'QI001',
                  DETAIL = format('_expires_at is %s, not after now.', _expires_at),
                  HINT = 'Give a time in the future, e.g. now() + interval ''90 days''.';
    END IF;
    IF _perm_set_code IS NULL AND coalesce(cardinality(_perm_codes), 0) = 0 THEN
        RAISE EXCEPTION 'nothing to grant'
            USING ERRCODE = 'QI004',
                  DETAIL = 'A key needs a permission set (_perm_set_code) or codes (_perm_codes).',
                  HINT = 'Give the key the least it needs, e.g. _perm_codes := ARRAY[''users.view''].';
    END IF;
    -- The technical user: named after the key's id, which no person's username can take
    -- (usernames are unique ignoring case; this one is made of the new uuid).
    _api_key_id := gen_random_uuid();
    _user_id := auth.create_user(_username := 'api-key-' || _api_key_id, _display_name := 'API key: ' || _name);
    PERFORM auth.add_user_to_tenant(_tenant_id, _user_id);
    IF _perm_set_code IS NOT NULL THEN
        PERFORM auth.assign_permission(_tenant_id, _user_id := _user_id, _perm_set_code := _perm_set_code);
    END IF;
    FOREACH _code IN ARRAY coalesce(_perm_codes, '{}') LOOP
        PERFORM auth.assign_permission(_tenant_id, _user_id := _user_id, _perm_code := _code);
    END LOOP;
    INSERT INTO auth.api_key (api_key_id, tenant_id, user_id, name, key_prefix, key_hash, expires_at)
    VALUES (_api_key_id, _tenant_id, _user_id, _name, left(_secret, 12), auth.secret_hash(_secret), _expires_at);
    RETURN QUERY SELECT _api_key_id, _user_id, _secret;
END;
$$;
COMMENT ON FUNCTION auth.create_api_key(uuid, text, timestamptz, text, text[]) IS
    'Creates an API key for a tenant: its technical user (a member holding the set _perm_set_code and/or the codes '
    '_perm_codes) and the secret, returned here once and never again. QN001, QI001 (a blank name, an expiry not in '
    'the future), QI004 (nothing to grant), QI008 (a name over 200 characters), QN004, QN003.';

CREATE OR REPLACE FUNCTION auth.authenticate_api_key(_api_key text)
RETURNS TABLE (tenant_id uuid, user_id uuid, api_key_id uuid)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _key auth.api_key;
BEGIN
    -- One answer for every failure (unknown, revoked, expired, malformed): no row.
    IF _api_key IS NULL OR left(_api_key, 5) <> 'pgpk_' OR length(_api_key) > 200 THEN
        RETURN;
    END IF;
    SELECT * INTO _key FROM auth.api_key k WHERE k.key_hash = auth.secret_hash(_api_key);
    IF NOT FOUND OR _key.revoked_at IS NOT NULL OR _key.expires_at <= now() THEN
        RETURN;
    END IF;
    -- Last use, at most once a minute, so a busy service does not write on every request;
    -- never in a read-only transaction (a replica still authenticates).
    IF (_key.last_used_at IS NULL OR _key.last_used_at < now() - interval '1 minute')
       AND current_setting('transaction_read_only') = 'off' THEN
        UPDATE auth.api_key k SET last_used_at = now() WHERE k.api_key_id = _key.api_key_id;
    END IF;
    RETURN QUERY SELECT _key.tenant_id, _key.user_id, _key.api_key_id;
END;
$$;
COMMENT ON FUNCTION auth.authenticate_api_key(text) IS
    'The tenant and technical user of a valid key (known, not revoked, not expired), in one probe; no row otherwise, '
    'whatever the reason. Records the last use at most once a minute, and never in a read-only transaction. The '
    'user''s live access is checked as for anyone: revoking the key deactivates its membership.';

CREATE OR REPLACE FUNCTION auth.revoke_api_key(_tenant_id uuid, _api_key_id uuid)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _user_id uuid;
BEGIN
    PERFORM auth.assert_tenant(_tenant_id);
    PERFORM auth.assert_given(_api_key_id, '_api_key_id');
    SELECT k.user_id INTO _user_id FROM auth.api_key k WHERE k.tenant_id = _tenant_id AND k.api_key_id = _api_key_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown API key'
            USING ERRCODE = 'QN009',
                  DETAIL = format('Tenant %s has no API key %s.', _tenant_id, _api_key_id),
                  HINT = 'auth.list_api_keys lists a tenant''s keys.';
    END IF;
    UPDATE auth.api_key k SET revoked_at = now() WHERE k.api_key_id = _api_key_id AND k.revoked_at IS NULL;
    -- Its grants stop at once: the technical user's membership is no longer live.
    PERFORM auth.remove_user_from_tenant(_tenant_id, _user_id);
END;
$$;
COMMENT ON FUNCTION auth.revoke_api_key(uuid, uuid) IS
    'Revokes a key for good: it no longer authenticates, and its technical user''s membership is deactivated. '
    'Idempotent. QN001, QN009 for a key of another tenant or none.';

CREATE OR REPLACE FUNCTION auth.list_api_keys(
    _tenant_id           uuid,
    _page_size           integer DEFAULT 50,
    _after_created_at    timestamptz DEFAULT NULL,
    _after_api_key_id    uuid DEFAULT NULL)
RETURNS TABLE (api_key_id uuid, user_id uuid, name text, key_prefix text, expires_at timestamptz,
               created_at timestamptz, revoked_at timestamptz, last_used_at timestamptz)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.assert_tenant(_tenant_id);
    PERFORM auth.assert_page_size(_page_size);
    PERFORM auth.assert_cursor(_after_created_at, _after_api_key_id, 'api_key_id');
    RETURN QUERY
    SELECT k.api_key_id, k.user_id, k.name, k.key_prefix, k.expires_at, k.created_at, k.revoked_at, k.last_used_at
      FROM auth.api_key k
     WHERE k.tenant_id = _tenant_id
       AND (_after_created_at IS NULL OR (k.created_at, k.api_key_id) > (_after_created_at, _after_api_key_id))
     ORDER BY k.created_at, k.api_key_id
     LIMIT _page_size;
END;
$$;
COMMENT ON FUNCTION auth.list_api_keys(uuid, integer, timestamptz, uuid) IS
    'A page of a tenant''s API keys, oldest first (pass the last row''s created_at and api_key_id for the next), '
    'revoked and expired ones included; never a secret. QN001, QI009.';
