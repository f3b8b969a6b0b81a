-- 0002: password credentials of users.
--
-- Applied once (install.sql guards it). pgcrypto supplies bcrypt (crypt, gen_salt); it is a
-- trusted extension since PostgreSQL 13, so a database owner may create it. An existing
-- installation, in whatever schema, is used as it is: the functions look its schema up.

CREATE EXTENSION IF NOT EXISTS pgcrypto;

CREATE TABLE auth.user_password (
    user_id         uuid        PRIMARY KEY REFERENCES auth.user_info ON DELETE CASCADE,
    -- bcrypt's modular crypt format: $2a$<cost>$ then 22 characters of salt and 31 of hash.
    -- Rejects plaintext written by mistake through direct DML.
    password_hash   text        NOT NULL
                                CONSTRAINT user_password_hash_format CHECK (password_hash ~ '^\$2[abxy]\$[0-9]{2}\$[./A-Za-z0-9]{53}$'),
    failed_attempts integer     NOT NULL DEFAULT 0 CONSTRAINT user_password_failed_attempts_check CHECK (failed_attempts >= 0),
    first_failed_at timestamptz,
    locked_until    timestamptz,
    changed_at      timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE auth.user_password IS
    'The password of a user, as a salted bcrypt hash, and the failed logins counted against it. '
    'Written and read only by auth.set_user_password and auth.verify_user_password: no role may read the hash.';
COMMENT ON COLUMN auth.user_password.password_hash IS 'bcrypt hash made by pgcrypto''s crypt(password, gen_salt(''bf'', cost)).';
COMMENT ON COLUMN auth.user_password.failed_attempts IS 'Wrong passwords since first_failed_at; reset by a correct one or a new password.';
COMMENT ON COLUMN auth.user_password.first_failed_at IS 'First failure of the current window (auth.lockout_window); NULL when none.';
COMMENT ON COLUMN auth.user_password.locked_until IS 'Every login fails until then, right password or not. A past value is an expired lock.';
COMMENT ON COLUMN auth.user_password.changed_at IS 'When the password was last set.';

COMMENT ON COLUMN auth.audit_log.details IS
    'The row: {"new": ...} for inserts, {"old": ...} for deletes, {"old": ..., "new": ...} for updates. '
    'Secret columns (user_password.password_hash) read "redacted".';
