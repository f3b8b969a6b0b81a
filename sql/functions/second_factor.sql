-- A second factor for password sign-in: an authenticator app's time-based codes (TOTP,
-- RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps), single-use recovery codes, and each
-- tenant's policy (optional or required).
--
-- Sign-in with a second factor: auth.verify_user_password, then auth.second_factor_step
-- says what is owed (nothing, a code, or an enrolment the tenant requires), then
-- auth.verify_second_factor checks the code. Call each in autocommit (or commit each): a wrong
-- code counts as a failed login in the password's lockout (auth.max_failed_logins within
-- auth.lockout_window), and a rolled-back count would let codes be guessed forever. For the
-- same reason a right password does not reset that count for an account with a second
-- factor: only a right code does. A second factor protects password sign-in only: a user
-- without a password (single sign-on) cannot enrol one.

-- Internal ---------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION auth.totp_code(_secret bytea, _step bigint)
RETURNS text
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    _mac    bytea;
    _offset integer;
BEGIN
    -- RFC 4226's HOTP of the step: dynamic truncation of the HMAC, then its last 6 digits.
    EXECUTE format('SELECT %I.hmac(pg_catalog.int8send($1), $2, ''sha1'')', auth.pgcrypto_schema())
       INTO _mac
      USING _step, _secret;
    _offset := get_byte(_mac, 19) & 15;
    RETURN lpad(((((get_byte(_mac, _offset) & 127)::bigint << 24)
                  | (get_byte(_mac, _offset + 1) << 16)
                  | (get_byte(_mac, _offset + 2) << 8)
                  | get_byte(_mac, _offset + 3)) % 1000000)::text, 6, '0');
END;
$$;
COMMENT ON FUNCTION auth.totp_code(bytea, bigint) IS 'Internal: the 6-digit TOTP code of a secret at a 30-second step (RFC 6238, SHA-1).';

CREATE OR REPLACE FUNCTION auth.totp_step(_at timestamptz)
RETURNS bigint
LANGUAGE sql
IMMUTABLE
SET search_path = ''
AS $$
    SELECT floor(extract(epoch FROM _at) / 30)::bigint
$$;
COMMENT ON FUNCTION auth.totp_step(timestamptz) IS 'Internal: the 30-second TOTP step of a time (Unix time / 30).';

CREATE OR REPLACE FUNCTION auth.matching_totp_step(_totp auth.user_totp, _code text)
RETURNS bigint
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    _now    bigint := auth.totp_step(clock_timestamp());
    _secret bytea;
    _step   bigint;
BEGIN
    IF _code !~ '^[0-9]{6}$' THEN
        RETURN NULL;
    END IF;
    _secret := auth.unseal_secret(_totp.secret_sealed);
    -- One step of drift either way; a step already used, or older, never again.
    FOR _step IN _now - 1 .. _now + 1 LOOP
        IF _step > coalesce(_totp.last_used_step, -1) AND auth.totp_code(_secret, _step) = _code THEN
            RETURN _step;
        END IF;
    END LOOP;
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION auth.matching_totp_step(auth.user_totp, text) IS
    'Internal: the step (now, or one before or after) whose code _code is, if no later step was used already; NULL otherwise.';

CREATE OR REPLACE FUNCTION auth.base32(_bytes bytea)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
SET search_path = ''
AS $$
DECLARE
    _alphabet constant text := 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
    _buffer integer := 0;
    _bits   integer := 0;
    _text   text := '';
BEGIN
    FOR _i IN 0 .. length(_bytes) - 1 LOOP
        _buffer := (_buffer << 8) | get_byte(_bytes, _i);
        _bits := _bits + 8;
        WHILE _bits >= 5 LOOP
            _text := _text || substr(_alphabet, ((_buffer >> (_bits - 5)) & 31) + 1, 1);
            _bits := _bits - 5;
        END LOOP;
        _buffer := _buffer & ((1 << _bits) - 1);
    END LOOP;
    IF _bits > 0 THEN
        _text := _text || substr(_alphabet, ((_buffer << (5 - _bits)) & 31) + 1, 1);
    END IF;
    RETURN _text;
END;
$$;
COMMENT ON FUNCTION auth.base32(bytea) IS 'Internal: RFC 4648 base32 without padding, as authenticator apps read secrets.';

CREATE OR REPLACE FUNCTION auth.uri_component(_text text)
RETURNS text
LANGUAGE sql
IMMUTABLE
SET search_path = ''
AS $$
    -- Percent-encodes every UTF-8 byte but RFC 3986's unreserved characters.
    SELECT string_agg(CASE WHEN b BETWEEN 48 AND 57 OR b BETWEEN 65 AND 90 OR b BETWEEN 97 AND 122
                                OR b IN (45, 46, 95, 126) THEN chr(b)
                           ELSE '%' || upper(lpad(to_hex(b), 2, '0')) END, '' ORDER BY i)
      FROM (SELECT i, get_byte(convert_to(_text, 'UTF8'), i) AS b
              FROM generate_series(0, octet_length(convert_to(_text, 'UTF8')) - 1) AS i) bytes
$$;
COMMENT ON FUNCTION auth.uri_component(text) IS 'Internal: text percent-encoded for a URI component (RFC 3986).';

CREATE OR REPLACE FUNCTION auth.typed_code(_code text)
RETURNS text
LANGUAGE sql
IMMUTABLE
SET search_path = ''
AS $$
    -- People type codes with spaces ("123 456") and recovery codes, shown as
    -- xxxxx-xxxxx-xxxxx-xxxxx, with or without the dashes, in either case.
    SELECT lower(regexp_replace(_code, '[\s-]', '', 'g'))
$$;
COMMENT ON FUNCTION auth.typed_code(text) IS 'Internal: a code as typed, without spaces and dashes, in lower case.';

CREATE OR REPLACE FUNCTION auth.new_recovery_codes(_user_id uuid)
RETURNS text[]
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
    _codes text[] := '{}';
    _code  text;
BEGIN
    DELETE FROM auth.user_recovery_code r WHERE r.user_id = _user_id;
    FOR _i IN 1 .. 10 LOOP
        -- 80 random bits each: hashed with the pepper, no guessing reaches one.
        EXECUTE format('SELECT encode(%I.gen_random_bytes(10), ''hex'')', auth.pgcrypto_schema()) INTO _code;
        INSERT INTO auth.user_recovery_code (user_id, code_hash) VALUES (_user_id, auth.secret_hash(_code));
        _codes := _codes || (substr(_code, 1, 5) || '-' || substr(_code, 6, 5) || '-' || substr(_code, 11, 5)
                             || '-' || substr(_code, 16, 5));
    END LOOP;
    RETURN _codes;
END;
$$;
COMMENT ON FUNCTION auth.new_recovery_codes(uuid) IS
    'Internal: replaces a user''s recovery codes with 10 new ones, returned this once and kept as keyed hashes.';

CREATE OR REPLACE FUNCTION auth.assert_second_factor_policy(_policy text)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.assert_given(_policy, '_policy');
    IF _policy NOT IN ('optional', 'required') THEN
        RAISE EXCEPTION 'invalid second factor policy'
            USING ERRCODE = 'QI001',
                  DETAIL = format('_policy is %L.', left(_policy, 40)),
                  HINT = 'Use ''optional'' (members may enrol an authenticator) or ''required'' (password sign-in needs one).';
    END IF;
END;
$$;
COMMENT ON FUNCTION auth.assert_second_factor_policy(text) IS 'Internal: QI001 unless the policy is optional or required.';

-- Enrolment ----------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION auth.begin_totp_enrolment(_user_id uuid, _issuer text DEFAULT 'pgperm')
RETURNS TABLE (secret text, otpauth_uri text)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _secret   bytea;
    _username text;
BEGIN
    PERFORM auth.assert_user(_user_id);
    PERFORM auth.assert_given(_issuer, '_issuer');
    IF char_length(_issuer) > 100 OR _issuer ~ '[:\u0000-\u001f]' THEN
        RAISE EXCEPTION 'invalid issuer'
            USING ERRCODE = 'QI008',
                  DETAIL = 'The issuer is over 100 characters long, or has a colon or a control character.',
                  HINT = 'Name the application or company the user will recognise in the authenticator app.';
    END IF;
    IF NOT EXISTS (SELECT FROM auth.user_password p WHERE p.user_id = _user_id) THEN
        RAISE EXCEPTION 'no password'
            USING ERRCODE = 'QS009',
                  DETAIL = format('User %s signs in without a password.', _user_id),
                  HINT = 'A second factor protects password sign-in; set a password first (auth.set_user_password).';
    END IF;
    -- The row lock, pending or enabled, orders this with a concurrent confirmation: after it
    -- commits, this sees the enabled row and refuses instead of replacing its secret.
    IF (SELECT t.enabled_at IS NOT NULL FROM auth.user_totp t WHERE t.user_id = _user_id FOR UPDATE) THEN
        RAISE EXCEPTION 'second factor already enabled'
            USING ERRCODE = 'QS008',
                  DETAIL = format('User %s has a confirmed authenticator.', _user_id),
                  HINT = 'Disable it first (auth.disable_totp) to enrol another one.';
    END IF;
    EXECUTE format('SELECT %I.gen_random_bytes(20)', auth.pgcrypto_schema()) INTO _secret;
    -- A pending enrolment begun again is replaced: only the newest secret can be confirmed.
    INSERT INTO auth.user_totp AS t (user_id, secret_sealed) VALUES (_user_id, auth.seal_secret(_secret))
    ON CONFLICT (user_id) DO UPDATE SET secret_sealed = EXCLUDED.secret_sealed, created_at = now(), last_used_step = NULL;
    SELECT u.username INTO _username FROM auth.user_info u WHERE u.user_id = _user_id;
    RETURN QUERY SELECT auth.base32(_secret),
                        format('otpauth://totp/%s:%s?secret=%s&issuer=%s&algorithm=SHA1&digits=6&period=30',
                               auth.uri_component(_issuer), auth.uri_component(_username), auth.base32(_secret),
                               auth.uri_component(_issuer));
END;
$$;
COMMENT ON FUNCTION auth.begin_totp_enrolment(uuid, text) IS
    'Begins enrolling an authenticator app for a user: a new secret, in base32 and as an otpauth:// URI for a QR '
    'code, pending until auth.confirm_totp_enrolment. Beginning again replaces a pending secret. QN002, QI001, QI008 '
    '(an issuer over 100 characters or with a colon), QS008 (an authenticator is enabled already), QS009 (the user '
    'has no password: a second factor protects password sign-in).';

CREATE OR REPLACE FUNCTION auth.confirm_totp_enrolment(_user_id uuid, _code text)
RETURNS text[]
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _totp auth.user_totp;
    _step bigint;
BEGIN
    PERFORM auth.assert_user(_user_id);
    PERFORM auth.assert_given(_code, '_code');
    SELECT * INTO _totp FROM auth.user_totp t WHERE t.user_id = _user_id FOR UPDATE;
    IF NOT FOUND OR _totp.enabled_at IS NOT NULL THEN
        RAISE EXCEPTION 'no enrolment pending'
            USING ERRCODE = 'QN011',
                  DETAIL = CASE WHEN FOUND THEN format('User %s''s authenticator is enabled already.', _user_id)
                                ELSE format('User %s has begun no enrolment.', _user_id) END,
                  HINT = 'auth.begin_totp_enrolment gives the secret to confirm.';
    END IF;
    _step := auth.matching_totp_step(_totp, auth.typed_code(_code));
    IF _step IS NULL THEN
        RAISE EXCEPTION 'wrong code'
            USING ERRCODE = 'QI013',
                  DETAIL = 'The code is not the authenticator''s code of this 30-second step, or of the one before or after.',
                  HINT = 'Type the 6 digits the app shows now; if it keeps failing, check the device''s clock.';
    END IF;
    UPDATE auth.user_totp t SET enabled_at = now(), last_used_step = _step WHERE t.user_id = _user_id;
    RETURN auth.new_recovery_codes(_user_id);
END;
$$;
COMMENT ON FUNCTION auth.confirm_totp_enrolment(uuid, text) IS
    'Enables a pending authenticator once the user types its current code, and returns 10 recovery codes, shown '
    'this once. QN002, QI001, QN011 (no enrolment pending), QI013 (a wrong code).';

CREATE OR REPLACE FUNCTION auth.disable_totp(_user_id uuid)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.assert_user(_user_id);
    DELETE FROM auth.user_totp t WHERE t.user_id = _user_id;
    RETURN FOUND;
END;
$$;
COMMENT ON FUNCTION auth.disable_totp(uuid) IS
    'Removes a user''s authenticator, pending or enabled, and their recovery codes: true when there was one. For a '
    'user who lost the device and the codes, or who enrols another. QN002.';

CREATE OR REPLACE FUNCTION auth.cancel_totp_enrolment(_user_id uuid)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.assert_user(_user_id);
    -- Pending only, in one statement: an enrolment confirmed meanwhile is not removed.
    DELETE FROM auth.user_totp t WHERE t.user_id = _user_id AND t.enabled_at IS NULL;
    RETURN FOUND;
END;
$$;
COMMENT ON FUNCTION auth.cancel_totp_enrolment(uuid) IS
    'Cancels a pending enrolment, never an enabled authenticator: true when there was one. For a self-service '
    '"cancel" that needs no code, unlike auth.disable_totp. QN002.';

CREATE OR REPLACE FUNCTION auth.regenerate_recovery_codes(_user_id uuid)
RETURNS text[]
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.assert_user(_user_id);
    IF NOT EXISTS (SELECT FROM auth.user_totp t WHERE t.user_id = _user_id AND t.enabled_at IS NOT NULL FOR UPDATE) THEN
        RAISE EXCEPTION 'no second factor'
            USING ERRCODE = 'QN011',
                  DETAIL = format('User %s has no enabled authenticator.', _user_id),
                  HINT = 'Enrol one first: auth.begin_totp_enrolment, then auth.confirm_totp_enrolment.';
    END IF;
    RETURN auth.new_recovery_codes(_user_id);
END;
$$;
COMMENT ON FUNCTION auth.regenerate_recovery_codes(uuid) IS
    'Replaces a user''s recovery codes with 10 new ones, returned this once; the old ones stop working. QN002, QN011.';

CREATE OR REPLACE FUNCTION auth.get_second_factor(_user_id uuid)
RETURNS TABLE (is_enabled boolean, is_pending boolean, enabled_at timestamptz, recovery_codes_left integer)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.assert_user(_user_id);
    RETURN QUERY
    SELECT t.enabled_at IS NOT NULL, t.user_id IS NOT NULL AND t.enabled_at IS NULL, t.enabled_at,
           (SELECT count(*)::integer FROM auth.user_recovery_code r WHERE r.user_id = _user_id AND r.used_at IS NULL)
      FROM (SELECT _user_id AS user_id) u
      LEFT JOIN auth.user_totp t ON t.user_id = u.user_id;
END;
$$;
COMMENT ON FUNCTION auth.get_second_factor(uuid) IS
    'A user''s second factor: enabled, or pending confirmation, since when, and how many recovery codes are unused. '
    'One row always. QN002.';

-- Sign-in ------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION auth.verify_second_factor(_user_id uuid, _code text)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _settings record;
    _totp     auth.user_totp;
    _login    auth.user_password;
    _key      text;
    _step     bigint;
BEGIN
    SELECT * INTO _settings FROM auth.lockout_settings();  -- first, so a malformed setting always fails
    IF _user_id IS NULL OR _code IS NULL THEN
        RETURN false;
    END IF;
    -- The row locks serialise attempts on one account (a code raced twice serves once), taken
    -- in auth.verify_user_password's order: the password's row first. Without a password
    -- there is no lockout to count wrong codes in, so no code is accepted either.
    SELECT * INTO _login FROM auth.user_password p WHERE p.user_id = _user_id FOR UPDATE;
    SELECT * INTO _totp FROM auth.user_totp t WHERE t.user_id = _user_id AND t.enabled_at IS NOT NULL FOR UPDATE;
    IF _login.user_id IS NULL OR _totp.user_id IS NULL THEN
        RETURN false;
    END IF;
    IF _login.locked_until > clock_timestamp() THEN
        RETURN false;  -- locked: no attempt counts until the lock ends
    END IF;

    _key := auth.typed_code(_code);
    _step := auth.matching_totp_step(_totp, _key);
    IF _step IS NOT NULL THEN
        UPDATE auth.user_totp t SET last_used_step = _step WHERE t.user_id = _user_id;
    ELSIF _key ~ '^[0-9a-f]{20}$' THEN
        UPDATE auth.user_recovery_code r SET used_at = clock_timestamp()
         WHERE r.user_id = _user_id AND r.code_hash = auth.secret_hash(_key) AND r.used_at IS NULL;
        IF NOT FOUND THEN
            _key := NULL;
        END IF;
    ELSE
        _key := NULL;
    END IF;

    IF _step IS NOT NULL OR _key IS NOT NULL THEN
        PERFORM auth.reset_failed_logins(_login);
        RETURN true;
    END IF;
    PERFORM auth.record_failed_login(_login, _settings.max_failures, _settings.lockout_window);
    RETURN false;
END;
$$;
COMMENT ON FUNCTION auth.verify_second_factor(uuid, text) IS
    'Login, second step: true when _code is the user''s current authenticator code (one step of drift; a code used '
    'once is refused) or one of their unused recovery codes (spent by this call). False otherwise: no authenticator '
    'enabled, a wrong or reused code, a user without a password, or a locked account. A wrong code counts as a failed '
    'login in the password''s lockout; a right one resets the count. It writes: call it in autocommit, or in a '
    'transaction that commits even when the code is wrong.';

CREATE OR REPLACE FUNCTION auth.second_factor_step(_tenant_id uuid, _user_id uuid)
RETURNS text
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.assert_tenant(_tenant_id);
    PERFORM auth.assert_user(_user_id);
    IF EXISTS (SELECT FROM auth.user_totp t WHERE t.user_id = _user_id AND t.enabled_at IS NOT NULL) THEN
        RETURN 'code';
    END IF;
    IF (SELECT t.second_factor_policy FROM auth.tenant t WHERE t.tenant_id = _tenant_id) = 'required' THEN
        RETURN 'enrolment';
    END IF;
    RETURN 'none';
END;
$$;
COMMENT ON FUNCTION auth.second_factor_step(uuid, uuid) IS
    'Login, after a right password: what the user still owes to sign in to the tenant. ''code'': their authenticator''s '
    'code (auth.verify_second_factor); ''enrolment'': the tenant requires a second factor and the user has none, so they '
    'enrol one (auth.begin_totp_enrolment, then auth.confirm_totp_enrolment) before signing in; ''none'': nothing. '
    'QN001, QN002.';

-- Policy -------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION auth.set_second_factor_policy(_tenant_id uuid, _policy text)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.assert_tenant(_tenant_id);
    PERFORM auth.assert_second_factor_policy(_policy);
    UPDATE auth.tenant t SET second_factor_policy = _policy
     WHERE t.tenant_id = _tenant_id AND t.second_factor_policy <> _policy;
END;
$$;
COMMENT ON FUNCTION auth.set_second_factor_policy(uuid, text) IS
    'Sets a tenant''s second factor policy: ''optional'' or ''required'' (password sign-in to the tenant needs an '
    'authenticator; members without one must enrol at sign-in). QN001, QI001.';

CREATE OR REPLACE FUNCTION auth.get_second_factor_policy(_tenant_id uuid)
RETURNS text
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.assert_tenant(_tenant_id);
    RETURN (SELECT t.second_factor_policy FROM auth.tenant t WHERE t.tenant_id = _tenant_id);
END;
$$;
COMMENT ON FUNCTION auth.get_second_factor_policy(uuid) IS 'A tenant''s second factor policy: ''optional'' or ''required''. QN001.';
