-- 0001: the master database's tables. Applied once; see install.sql.

CREATE EXTENSION IF NOT EXISTS pgcrypto;

CREATE SCHEMA platform;
COMMENT ON SCHEMA platform IS
    'The multi-tenant platform''s registry: tenants and their databases, admin users, organizations, SSO, migrations, audit.';

CREATE TABLE platform.organization (
    organization_id uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    name            text        NOT NULL CONSTRAINT organization_name_key UNIQUE
                                CONSTRAINT organization_name_not_blank CHECK (btrim(name) <> ''),
    admin_email     text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE platform.organization IS
    'A group of related tenants sharing SSO settings. Deleting one unlinks its tenants; it never deletes them.';

CREATE TABLE platform.organization_sso (
    organization_id         uuid        PRIMARY KEY REFERENCES platform.organization ON DELETE CASCADE,
    provider                text        NOT NULL DEFAULT 'entra_id' CONSTRAINT organization_sso_provider CHECK (provider = 'entra_id'),
    entra_tenant_id         text        NOT NULL,
    client_id               text        NOT NULL,
    client_secret_encrypted text        NOT NULL,
    allowed_domains         text[]      NOT NULL DEFAULT '{}',
    updated_at              timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE platform.organization_sso IS
    'Microsoft Entra ID settings of an organization. The client secret is sealed with AES-256-GCM '
    '(v<key version>:<base64>), bound to the organization id.';

CREATE TABLE platform.tenant (
    tenant_id                uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    name                     text        NOT NULL CONSTRAINT tenant_name_not_blank CHECK (btrim(name) <> ''),
    slug                     text        NOT NULL CONSTRAINT tenant_slug_key UNIQUE
                                         CONSTRAINT tenant_slug_format CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,38}[a-z0-9]$'),
    status                   text        NOT NULL DEFAULT 'provisioning'
                                         CONSTRAINT tenant_status CHECK (status IN ('provisioning', 'active', 'inactive', 'failed')),
    database_name            text        NOT NULL CONSTRAINT tenant_database_name_key UNIQUE,
    role_name                text        NOT NULL CONSTRAINT tenant_role_name_key UNIQUE,
    credentials_encrypted    text        NOT NULL,
    admin_email              text        NOT NULL,
    admin_password_encrypted text        NOT NULL,
    key_version              integer     NOT NULL,
    schema_version           text,
    organization_id          uuid        REFERENCES platform.organization ON DELETE SET NULL,
    provisioning_step        text,
    last_error               text,
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tenant_organization_id_idx ON platform.tenant (organization_id);
COMMENT ON TABLE platform.tenant IS
    'One row per tenant database. Status provisioning → active (or failed, finished by '
    '`pgperm tenant create --resume` or removed by `tenant delete`); inactive keeps the database but refuses logins.';
COMMENT ON COLUMN platform.tenant.credentials_encrypted IS
    'The tenant role''s password, sealed with AES-256-GCM under key_version and bound to tenant_id.';
COMMENT ON COLUMN platform.tenant.provisioning_step IS 'The last provisioning step completed, for resuming.';

CREATE TABLE platform.admin_user (
    admin_user_id uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    email         text        NOT NULL CONSTRAINT admin_user_email_format CHECK (email ~ '^[^@\s]+@[^@\s]+$'),
    password_hash text        NOT NULL,
    is_superadmin boolean     NOT NULL DEFAULT false,
    is_active     boolean     NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX admin_user_email_key ON platform.admin_user (lower(email));
COMMENT ON TABLE platform.admin_user IS
    'Users of the admin portal, separate from tenant users. A superadmin manages everything; a regular admin '
    'only the tenants listed in platform.admin_user_tenant. Passwords are bcrypt hashes (pgcrypto).';

CREATE TABLE platform.admin_user_tenant (
    admin_user_id uuid NOT NULL REFERENCES platform.admin_user ON DELETE CASCADE,
    tenant_id     uuid NOT NULL REFERENCES platform.tenant ON DELETE CASCADE,
    PRIMARY KEY (admin_user_id, tenant_id)
);
CREATE INDEX admin_user_tenant_tenant_id_idx ON platform.admin_user_tenant (tenant_id);
COMMENT ON TABLE platform.admin_user_tenant IS 'The tenants a regular admin user manages.';

CREATE TABLE platform.tenant_migration (
    run_id       uuid        NOT NULL,
    tenant_id    uuid        NOT NULL REFERENCES platform.tenant ON DELETE CASCADE,
    status       text        NOT NULL CONSTRAINT tenant_migration_status CHECK (status IN ('pending', 'running', 'succeeded', 'failed')),
    from_version text,
    to_version   text,
    started_at   timestamptz,
    finished_at  timestamptz,
    duration_ms  bigint,
    error        text,
    PRIMARY KEY (run_id, tenant_id)
);
CREATE INDEX tenant_migration_tenant_id_idx ON platform.tenant_migration (tenant_id);
COMMENT ON TABLE platform.tenant_migration IS
    'One row per tenant per `pgperm migrate` run: versions before and after, duration, and the error of a failed tenant.';

CREATE TABLE platform.encryption_key_check (
    key_version integer     PRIMARY KEY,
    sealed      text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE platform.encryption_key_check IS
    'A known value sealed with each key version, so a wrong TENANT_ENCRYPTION_KEY fails at start-up, not at first use.';

CREATE TABLE platform.audit_log (
    audit_id    bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    actor       text        NOT NULL DEFAULT session_user,
    action      text        NOT NULL,
    tenant_slug text,
    details     jsonb       NOT NULL DEFAULT '{}'
);
COMMENT ON TABLE platform.audit_log IS
    'Platform actions (tenant created, suspended, deleted, credentials shown, admin users, organizations), newest last.';
