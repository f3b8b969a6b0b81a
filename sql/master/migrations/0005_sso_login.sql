-- 0005: single sign-on. An organization's provider is Microsoft Entra ID (built from its
-- directory id) or any OpenID Connect provider named by its issuer URL; a first sign-in may
-- create the member (just-in-time) with a default permission set; every email domain
-- belongs to one organization at most; and a sign-in in progress (state, nonce, PKCE
-- verifier) is kept here, single-use, for ten minutes.

ALTER TABLE platform.organization_sso
    DROP CONSTRAINT organization_sso_provider,
    ADD CONSTRAINT organization_sso_provider CHECK (provider IN ('entra_id', 'oidc')),
    ALTER COLUMN entra_tenant_id DROP NOT NULL,
    ADD COLUMN issuer text CONSTRAINT organization_sso_issuer_length CHECK (char_length(issuer) <= 2048),
    -- Each kind has its own way of naming the provider, and only that one.
    ADD CONSTRAINT organization_sso_provider_fields CHECK (
        (provider = 'entra_id' AND entra_tenant_id IS NOT NULL AND issuer IS NULL)
        OR (provider = 'oidc' AND issuer IS NOT NULL AND entra_tenant_id IS NULL)),
    ADD COLUMN jit_enabled boolean NOT NULL DEFAULT false,
    ADD COLUMN jit_perm_set text CONSTRAINT organization_sso_jit_perm_set_length CHECK (char_length(jit_perm_set) <= 63);
COMMENT ON TABLE platform.organization_sso IS
    'Single sign-on settings of an organization: Microsoft Entra ID (entra_tenant_id) or an OpenID Connect '
    'provider (issuer). The client secret is sealed with AES-256-GCM (v<key version>:<base64>), bound to the '
    'organization id. With jit_enabled a first sign-in of an allowed email creates the member, with the '
    'permission set jit_perm_set (a set code of each tenant) when given.';

-- A domain names one organization, so an email finds its organization without ambiguity.
-- The list moves from the array column into this table, whose key enforces it.
CREATE TABLE platform.organization_sso_domain (
    domain          text PRIMARY KEY CONSTRAINT organization_sso_domain_length CHECK (char_length(domain) BETWEEN 1 AND 253),
    organization_id uuid NOT NULL REFERENCES platform.organization_sso ON DELETE CASCADE
);
CREATE INDEX organization_sso_domain_organization_id_idx ON platform.organization_sso_domain (organization_id);
COMMENT ON TABLE platform.organization_sso_domain IS
    'The email domains allowed to sign in through an organization''s provider (lower case); a domain belongs '
    'to one organization at most.';

DO $$
DECLARE
    _clash record;
BEGIN
    SELECT d.domain, string_agg(o.name, ', ' ORDER BY o.name) AS organizations INTO _clash
      FROM platform.organization_sso s
     CROSS JOIN LATERAL unnest(s.allowed_domains) AS d(domain)
      JOIN platform.organization o ON o.organization_id = s.organization_id
     GROUP BY d.domain HAVING count(*) > 1 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'the email domain % is allowed for several organizations (%)', _clash.domain, _clash.organizations
            USING HINT = 'A domain may belong to one organization only: remove it from the others with '
                         '`pgperm org sso set`, using the previous version, then upgrade again.';
    END IF;
END;
$$;
INSERT INTO platform.organization_sso_domain (domain, organization_id)
SELECT DISTINCT d.domain, s.organization_id
  FROM platform.organization_sso s CROSS JOIN LATERAL unnest(s.allowed_domains) AS d(domain);
ALTER TABLE platform.organization_sso DROP COLUMN allowed_domains;

-- A sign-in between the redirect to the provider and its return. The state is the key, as
-- its SHA-256: the value itself is only in the browser's URL. The browser binding is the
-- SHA-256 of a cookie set at the start, so a callback completes only in the browser that
-- began it (no login CSRF).
CREATE TABLE platform.sso_login (
    state_hash      bytea       PRIMARY KEY CONSTRAINT sso_login_state_hash_length CHECK (length(state_hash) = 32),
    browser_hash    bytea       NOT NULL CONSTRAINT sso_login_browser_hash_length CHECK (length(browser_hash) = 32),
    organization_id uuid        NOT NULL REFERENCES platform.organization ON DELETE CASCADE,
    tenant_id       uuid        NOT NULL REFERENCES platform.tenant ON DELETE CASCADE,
    nonce           text        NOT NULL CONSTRAINT sso_login_nonce_length CHECK (char_length(nonce) BETWEEN 32 AND 128),
    code_verifier   text        NOT NULL CONSTRAINT sso_login_code_verifier_length CHECK (char_length(code_verifier) BETWEEN 43 AND 128),
    redirect_uri    text        NOT NULL CONSTRAINT sso_login_redirect_uri_length CHECK (char_length(redirect_uri) <= 2048),
    return_to       text        CONSTRAINT sso_login_return_to_length CHECK (char_length(return_to) <= 2048),
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL DEFAULT now() + interval '10 minutes'
);
CREATE INDEX sso_login_expires_at_idx ON platform.sso_login (expires_at);
COMMENT ON TABLE platform.sso_login IS
    'Single sign-ons in progress: the nonce and PKCE verifier of each, found by the hash of its state. A row is '
    'deleted when its callback arrives (single use) and is refused after expires_at (ten minutes).';
