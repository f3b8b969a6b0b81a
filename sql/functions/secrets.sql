-- Secrets the schema hands out once (API keys, invitation tokens) and keeps only as a keyed
-- hash: HMAC-SHA256 under the schema's pepper (auth.secret_pepper), which no role reads, so a
-- copy of the tables alone gives nothing to sign in with. A fast hash rather than bcrypt:
-- the secrets carry 244 random bits, which no guessing reaches, and a request must be
-- checked in one index probe.

CREATE OR REPLACE FUNCTION auth.new_secret(_prefix text)
RETURNS text
LANGUAGE sql
VOLATILE
SET search_path = ''
AS $$
    -- Two random uuids: 244 random bits, in 64 hexadecimal characters after the prefix.
    SELECT _prefix || replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '')
$$;
COMMENT ON FUNCTION auth.new_secret(text) IS 'Internal: a new secret, the prefix then 64 hexadecimal characters (244 random bits).';

CREATE OR REPLACE FUNCTION auth.secret_hash(_secret text)
RETURNS bytea
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    _hash bytea;
BEGIN
    EXECUTE format('SELECT %I.hmac(convert_to($1, ''UTF8''), p.pepper, ''sha256'') FROM auth.secret_pepper p',
                   auth.pgcrypto_schema())
       INTO _hash
      USING _secret;
    RETURN _hash;
END;
$$;
COMMENT ON FUNCTION auth.secret_hash(text) IS 'Internal: HMAC-SHA256 of a secret under the schema''s pepper.';

-- A secret that must be read back (an authenticator's TOTP secret) cannot be hashed: it is
-- encrypted instead, with pgcrypto's OpenPGP symmetric encryption (AES-256, a random session
-- key per message), under a key derived from the pepper for this one purpose, so the hashes'
-- key and the encryption's are never the same.

CREATE OR REPLACE FUNCTION auth.seal_secret(_secret bytea)
RETURNS bytea
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
    _sealed bytea;
BEGIN
    EXECUTE format('SELECT %1$I.pgp_sym_encrypt_bytea($1, encode(%1$I.hmac(''seal'', p.pepper, ''sha256''), ''hex''), '
                   '''cipher-algo=aes256'') FROM auth.secret_pepper p', auth.pgcrypto_schema())
       INTO _sealed
      USING _secret;
    RETURN _sealed;
END;
$$;
COMMENT ON FUNCTION auth.seal_secret(bytea) IS 'Internal: a secret encrypted under the schema''s pepper (auth.unseal_secret reads it).';

CREATE OR REPLACE FUNCTION auth.unseal_secret(_sealed bytea)
RETURNS bytea
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    _secret bytea;
BEGIN
    EXECUTE format('SELECT %1$I.pgp_sym_decrypt_bytea($1, encode(%1$I.hmac(''seal'', p.pepper, ''sha256''), ''hex'')) '
                   'FROM auth.secret_pepper p', auth.pgcrypto_schema())
       INTO _secret
      USING _sealed;
    RETURN _secret;
END;
$$;
COMMENT ON FUNCTION auth.unseal_secret(bytea) IS 'Internal: the secret auth.seal_secret encrypted.';

CREATE OR REPLACE FUNCTION auth.renew_secret_pepper()
RETURNS void
LANGUAGE sql
VOLATILE
SET search_path = ''
AS $$
    -- 32 bytes from two random uuids (244 random bits), as the install makes the first one.
    UPDATE auth.secret_pepper SET pepper = decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex')
$$;
COMMENT ON FUNCTION auth.renew_secret_pepper() IS
    'A new pepper for this database. A copy of another database (CREATE DATABASE ... TEMPLATE, a restored dump) '
    'shares its source''s pepper otherwise, and with it the key of its hashes and sealed secrets. Every API key, '
    'invitation token, recovery code and authenticator made before stops working: run it on a fresh copy. Granted to '
    'no role: the schema''s owner runs it (the platform does, for each new tenant database).';
