-- 0015: a second factor for password sign-in (issue 20, item 4): TOTP (RFC 6238) with
-- recovery codes, and each tenant's policy.
--
-- Applied once (install.sql guards it); a later fix ships as a new migration.
--
-- The TOTP secret must be read back to check a code, so it cannot be hashed: it is kept
-- encrypted under the schema's pepper (auth.secret_pepper), which only the schema's own
-- functions read, so the table alone (a dump of it, a replica's copy) yields no secret.
-- Recovery codes are long random secrets shown once: they are kept as keyed hashes.

CREATE TABLE auth.user_totp (
    user_id        uuid        NOT NULL PRIMARY KEY REFERENCES auth.user_info (user_id) ON DELETE CASCADE,
    secret_sealed  bytea       NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    enabled_at     timestamptz,
    last_used_step bigint
);
COMMENT ON TABLE auth.user_totp IS
    'A user''s authenticator (TOTP, RFC 6238: SHA-1, 6 digits, 30-second steps). Pending until enabled_at is set by '
    'auth.confirm_totp_enrolment; last_used_step refuses a code a second time. Only the functions read the secret.';
COMMENT ON COLUMN auth.user_totp.secret_sealed IS 'The 20-byte secret, encrypted (pgp_sym_encrypt) under the schema''s pepper.';
COMMENT ON COLUMN auth.user_totp.last_used_step IS 'The 30-second step of the last code accepted: that code and older ones are refused.';

CREATE TABLE auth.user_recovery_code (
    user_id   uuid        NOT NULL REFERENCES auth.user_totp (user_id) ON DELETE CASCADE,
    code_hash bytea       NOT NULL,
    used_at   timestamptz,
    PRIMARY KEY (user_id, code_hash)
);
COMMENT ON TABLE auth.user_recovery_code IS
    'Single-use recovery codes of a user''s second factor, as keyed hashes (auth.secret_hash); used_at once spent.';

ALTER TABLE auth.tenant ADD COLUMN second_factor_policy text NOT NULL DEFAULT 'optional'
    CONSTRAINT tenant_second_factor_policy_check CHECK (second_factor_policy IN ('optional', 'required'));
COMMENT ON COLUMN auth.tenant.second_factor_policy IS
    'optional: members may enrol an authenticator; required: password sign-in to this tenant needs one '
    '(auth.set_second_factor_policy).';
