-- Passwords: bcrypt credentials of users, and login with a lockout after repeated failures.
--
-- Settings, per session, role or database (ALTER DATABASE d SET auth.max_failed_logins = 10):
--   auth.max_failed_logins  wrong passwords within the window that lock the account (default 5)
--   auth.lockout_window     that window, and how long the lock lasts (default 15 minutes)
--   auth.bcrypt_cost        bcrypt's cost (log2 of its rounds) for new hashes, 4 to 31 (default 10)
--
-- The password travels to the server in clear: connect with TLS, and do not log statements
-- with their parameters (log_statement = 'all') for these calls.

-- Settings -----------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION auth.integer_setting(_name text, _default integer, _min integer, _max integer)
RETURNS integer
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    -- NULL when never set, '' after a SET LOCAL ended: both mean the default.
    _text  text := nullif(btrim(current_setting(_name, true)), '');
    _value integer;
BEGIN
    IF _text IS NULL THEN
        RETURN _default;
    END IF;
    BEGIN
        _value := _text::integer;
    EXCEPTION WHEN invalid_text_representation OR numeric_value_out_of_range THEN
        _value := NULL;
    END;
    IF _value IS NULL OR _value < _min OR _value > _max THEN
        RAISE EXCEPTION 'invalid setting %', _name
            USING ERRCODE = 'QI007',
                  DETAIL = format('%s is %L; it must be an integer from %s to %s.', _name, _text, _min, _max),
                  HINT = format('SET %s = %s, or RESET it for the default.', _name, _default);
    END IF;
    RETURN _value;
END;
$$;
COMMENT ON FUNCTION auth.integer_setting(text, integer, integer, integer) IS
    'Internal: the custom setting _name as an integer in [_min, _max], _default when unset; QI007 when malformed.';

CREATE OR REPLACE FUNCTION auth.interval_setting(_name text, _default interval)
RETURNS interval
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    _text  text := nullif(btrim(current_setting(_name, true)), '');
    _value interval;
BEGIN
    IF _text IS NULL THEN
        RETURN _default;
    END IF;
    BEGIN
        _value := _text::interval;
    EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR interval_field_overflow THEN
        _value := NULL;
    END;
    IF _value IS NULL OR _value <= interval '0' THEN
        RAISE EXCEPTION 'invalid setting %', _name
            USING ERRCODE = 'QI007',
                  DETAIL = format('%s is %L; it must be a positive interval.', _name, _text),
                  HINT = format('SET %s = %L, or RESET it for the default.', _name, _default);
    END IF;
    RETURN _value;
END;
$$;
COMMENT ON FUNCTION auth.interval_setting(text, interval) IS
    'Internal: the custom setting _name as a positive interval, _default when unset; QI007 when malformed.';

-- bcrypt -------------------------------------------------------------------------------
--
-- pgcrypto may live in any schema: installed before us in public or elsewhere, or moved
-- later with ALTER EXTENSION ... SET SCHEMA. These two helpers look its schema up on every
-- call and call it fully qualified, with search_path '' like every other function. Pinning
-- that schema in search_path at install time instead would go stale after a move, and would
-- put a schema that others may be able to create objects in on the path of definer code.
-- The lookup costs microseconds next to bcrypt's milliseconds.

CREATE OR REPLACE FUNCTION auth.pgcrypto_schema()
RETURNS name
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    _schema name;
BEGIN
    SELECT n.nspname INTO _schema
      FROM pg_catalog.pg_extension e
      JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'pgcrypto';
    IF _schema IS NULL THEN
        RAISE EXCEPTION 'pgcrypto is not installed'
            USING ERRCODE = 'undefined_object',
                  DETAIL = 'Passwords are hashed with the pgcrypto extension, which this database lacks.',
                  HINT = 'CREATE EXTENSION pgcrypto (a database owner may: it is trusted).';
    END IF;
    RETURN _schema;
END;
$$;
COMMENT ON FUNCTION auth.pgcrypto_schema() IS 'Internal: the schema the pgcrypto extension is installed in.';

CREATE OR REPLACE FUNCTION auth.bcrypt_hash(_password text)
RETURNS text
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
    _cost integer := auth.integer_setting('auth.bcrypt_cost', 10, 4, 31);
    _hash text;
BEGIN
    EXECUTE format('SELECT %1$I.crypt($1, %1$I.gen_salt(''bf'', $2))', auth.pgcrypto_schema())
       INTO _hash
      USING _password, _cost;
    RETURN _hash;
END;
$$;
COMMENT ON FUNCTION auth.bcrypt_hash(text) IS
    'Internal: a new salted bcrypt hash of the password, at the cost of the setting auth.bcrypt_cost (default 10).';

CREATE OR REPLACE FUNCTION auth.bcrypt_matches(_password text, _hash text)
RETURNS boolean
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    _matches boolean;
BEGIN
    EXECUTE format('SELECT %I.crypt($1, $2) = $2', auth.pgcrypto_schema())
       INTO _matches
      USING _password, _hash;
    RETURN _matches;
END;
$$;
COMMENT ON FUNCTION auth.bcrypt_matches(text, text) IS 'Internal: whether the password hashes to the bcrypt hash given.';

-- API ----------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION auth.set_user_password(_user_id uuid, _password text)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM auth.assert_user(_user_id);
    PERFORM auth.assert_given(_password, '_password');
    -- Lengths only: a DETAIL must never echo the password.
    IF char_length(_password) < 8 THEN
        RAISE EXCEPTION 'password too short'
            USING ERRCODE = 'QI006',
                  DETAIL = format('The password has %s characters; at least 8 are required.', char_length(_password)),
                  HINT = 'Choose a longer password; a passphrase of several words is easy to remember.';
    END IF;
    -- bcrypt ignores everything after 72 bytes: refuse rather than keep a silently shorter password.
    IF octet_length(_password) > 72 THEN
        RAISE EXCEPTION 'password too long'
            USING ERRCODE = 'QI006',
                  DETAIL = format('The password has %s bytes in UTF-8; bcrypt uses at most 72.', octet_length(_password)),
                  HINT = 'Choose a password of at most 72 bytes (fewer characters outside ASCII).';
    END IF;
    -- A new password also lifts a lock and forgets earlier failures.
    INSERT INTO auth.user_password (user_id, password_hash)
    VALUES (_user_id, auth.bcrypt_hash(_password))
    ON CONFLICT (user_id) DO UPDATE
        SET password_hash   = EXCLUDED.password_hash,
            failed_attempts = 0,
            first_failed_at = NULL,
            locked_until    = NULL,
            changed_at      = now();
END;
$$;
COMMENT ON FUNCTION auth.set_user_password(uuid, text) IS
    'Sets (or replaces) a user''s password, stored as a salted bcrypt hash at the cost auth.bcrypt_cost '
    '(default 10), and clears failed logins and any lock. QI001 for a blank password, QI006 for one shorter '
    'than 8 characters or longer than 72 bytes, QN002 for an unknown user.';

-- The lockout, shared by passwords and second factors: wrong guesses of either count alike.

CREATE OR REPLACE FUNCTION auth.lockout_settings(OUT max_failures integer, OUT lockout_window interval)
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    SELECT auth.integer_setting('auth.max_failed_logins', 5, 1, 1000000),
           auth.interval_setting('auth.lockout_window', interval '15 minutes')
$$;
COMMENT ON FUNCTION auth.lockout_settings() IS
    'Internal: auth.max_failed_logins (default 5) and auth.lockout_window (default 15 minutes); QI007 when malformed.';

CREATE OR REPLACE FUNCTION auth.record_failed_login(_login auth.user_password, _max_failures integer, _window interval)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
    _now timestamptz := clock_timestamp();
BEGIN
    -- The caller holds the row's lock, so concurrent failures each see the count the previous
    -- one left. A failure opens a new window or counts in the current one; the last one
    -- allowed locks the account for a window. This is no error, so the update is kept.
    IF _login.first_failed_at IS NULL OR _login.first_failed_at <= _now - _window THEN
        _login.failed_attempts := 1;
        _login.first_failed_at := _now;
    ELSE
        _login.failed_attempts := _login.failed_attempts + 1;
    END IF;
    UPDATE auth.user_password p
       SET failed_attempts = _login.failed_attempts,
           first_failed_at = _login.first_failed_at,
           locked_until    = CASE WHEN _login.failed_attempts >= _max_failures THEN _now + _window
                                  ELSE p.locked_until END
     WHERE p.user_id = _login.user_id;
END;
$$;
COMMENT ON FUNCTION auth.record_failed_login(auth.user_password, integer, interval) IS
    'Internal: counts a failed login of the (locked) row, locking the account after _max_failures within _window.';

CREATE OR REPLACE FUNCTION auth.reset_failed_logins(_login auth.user_password)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
BEGIN
    -- Only a row with something to forget is written: a successful login is no event.
    IF _login.failed_attempts > 0 OR _login.locked_until IS NOT NULL THEN
        UPDATE auth.user_password p
           SET failed_attempts = 0, first_failed_at = NULL, locked_until = NULL
         WHERE p.user_id = _login.user_id;
    END IF;
END;
$$;
COMMENT ON FUNCTION auth.reset_failed_logins(auth.user_password) IS 'Internal: forgets the failed logins of a successful login.';

CREATE OR REPLACE FUNCTION auth.verify_user_password(_username text, _password text)
RETURNS uuid
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _settings     record;
    _now          timestamptz := clock_timestamp();
    _user_id      uuid;
    _is_active    boolean;
    _login        auth.user_password;
    _matches      boolean;
BEGIN
    SELECT * INTO _settings FROM auth.lockout_settings();  -- first, so a malformed setting always fails
    -- Nothing typed is a wrong guess of no one: no work, nothing counted.
    IF _username IS NULL OR _username = '' OR _password IS NULL OR _password = '' THEN
        RETURN NULL;
    END IF;

    SELECT u.user_id, u.is_active INTO _user_id, _is_active
      FROM auth.user_info u
     WHERE lower(u.username) = lower(_username);
    IF FOUND THEN
        -- The row lock serialises attempts on one account, so concurrent wrong guesses each
        -- see the count the previous one left, and all of them count.
        SELECT p.* INTO _login FROM auth.user_password p WHERE p.user_id = _user_id FOR UPDATE;
    END IF;
    IF _login.user_id IS NULL THEN
        -- Unknown user, or no password set: spend a bcrypt anyway, so the time taken does not
        -- tell which usernames exist.
        PERFORM auth.bcrypt_hash(_password);
        RETURN NULL;
    END IF;

    -- Always hash, locked or not, for the same reason. Beyond 72 bytes bcrypt would ignore
    -- the tail, and set_user_password accepts no such password: it cannot be right.
    _matches := auth.bcrypt_matches(_password, _login.password_hash) AND octet_length(_password) <= 72;

    IF _login.locked_until > _now THEN
        RETURN NULL;  -- locked: no attempt counts, or resets, until the lock ends
    END IF;

    IF _matches THEN
        -- With a second factor, only its right code resets the count (auth.verify_second_factor):
        -- a right password alone must not let wrong codes be guessed forever.
        IF NOT EXISTS (SELECT FROM auth.user_totp t WHERE t.user_id = _user_id AND t.enabled_at IS NOT NULL) THEN
            PERFORM auth.reset_failed_logins(_login);
        END IF;
        RETURN CASE WHEN _is_active THEN _user_id END;
    END IF;

    PERFORM auth.record_failed_login(_login, _settings.max_failures, _settings.lockout_window);
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION auth.verify_user_password(text, text) IS
    'Login: the user''s id when the password is right and the user is active and not locked; NULL otherwise '
    '(unknown or inactive user, no password set, wrong password, locked), never an error for a wrong guess. '
    'The username ignores case. auth.max_failed_logins (default 5) wrong passwords within auth.lockout_window '
    '(default 15 minutes) lock the account for that window; a right one resets the count, unless the user has a '
    'second factor (then only a right code does: auth.verify_second_factor). It writes the count: '
    'call it in a read-write transaction that commits (autocommit is fine). QI007 for a malformed setting.';

CREATE OR REPLACE FUNCTION auth.unlock_user(_user_id uuid)
RETURNS boolean
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _was_locked boolean;
BEGIN
    PERFORM auth.assert_user(_user_id);
    -- The row lock orders this with a concurrent login, which would otherwise write back the
    -- count it read before the unlock.
    SELECT p.locked_until > clock_timestamp() INTO _was_locked
      FROM auth.user_password p
     WHERE p.user_id = _user_id
       FOR UPDATE;
    -- Only a row with something to forget is written, so unlocking twice is one event.
    UPDATE auth.user_password p
       SET failed_attempts = 0, first_failed_at = NULL, locked_until = NULL
     WHERE p.user_id = _user_id
       AND (p.failed_attempts > 0 OR p.first_failed_at IS NOT NULL OR p.locked_until IS NOT NULL);
    RETURN coalesce(_was_locked, false);
END;
$$;
COMMENT ON FUNCTION auth.unlock_user(uuid) IS
    'Lifts a lock set by failed logins and forgets the failures counted, keeping the password. True when the '
    'account was locked, false otherwise (also for a user without a password). Idempotent. QN002 for an unknown user.';
