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
