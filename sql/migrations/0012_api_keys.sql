-- 0012: API keys for services and scripts (issue 20, item 2).
--
-- Applied once (install.sql guards it); a later fix ships as a new migration.
--
-- A key is a long random secret shown once; the table keeps its HMAC-SHA256 under a pepper
-- that only the schema's own functions read, so the table alone (a dump of it, a replica's
-- copy) gives nothing to sign in with. A fast keyed hash rather than bcrypt: the secrets carry
-- 256 random bits, which no guessing reaches, and a request must be checked in one probe.
-- Each key acts as a technical user of its own, a member of the key's tenant holding what the
-- key was given, so checks, assignments and the audit log treat it like any member.

CREATE TABLE auth.secret_pepper (
    singleton boolean NOT NULL DEFAULT true PRIMARY KEY CHECK (singleton),
    pepper    bytea   NOT NULL CHECK (octet_length(pepper) = 32)
);
COMMENT ON TABLE auth.secret_pepper IS
    'Internal: the HMAC key of the hashes of API keys and invitation tokens (auth.secret_hash), made at install. '
    'No role but the schema''s owner reads it.';

CREATE TABLE auth.api_key (
    api_key_id   uuid        NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    tenant_id    uuid        NOT NULL,
    user_id      uuid        NOT NULL,
    name         text        NOT NULL CONSTRAINT api_key_name_check CHECK (length(name) BETWEEN 1 AND 200),
    key_prefix   text        NOT NULL,
    key_hash     bytea       NOT NULL CONSTRAINT api_key_hash_key UNIQUE,
    expires_at   timestamptz NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    last_used_at timestamptz,
    CONSTRAINT api_key_member_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES auth.tenant_user (tenant_id, user_id) ON DELETE CASCADE
);
CREATE INDEX api_key_tenant_created_idx ON auth.api_key (tenant_id, created_at, api_key_id);
CREATE UNIQUE INDEX api_key_user_key ON auth.api_key (user_id);

COMMENT ON TABLE auth.api_key IS
    'A tenant''s API key: its technical user (a member of the tenant created for the key), its name, the first '
    'characters of the secret for recognising it, the HMAC of the secret, expiry, revocation and last use.';
COMMENT ON COLUMN auth.api_key.key_prefix IS 'The secret''s first 12 characters (pgpk_ and 7 more): enough to tell keys apart, nothing to use.';
COMMENT ON COLUMN auth.api_key.last_used_at IS 'Updated at most once a minute by auth.authenticate_api_key, and never in a read-only transaction.';

-- 32 bytes from two random uuids: 244 random bits, with no extension needed here.
INSERT INTO auth.secret_pepper (pepper)
VALUES (decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));
