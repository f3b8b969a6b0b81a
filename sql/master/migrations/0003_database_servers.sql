-- 0003: tenants over several PostgreSQL servers, the tenant row inside each tenant's
-- database recorded instead of guessed, and the acting admin in the platform audit log.

CREATE TABLE platform.database_server (
    server_id                uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    name                     text        NOT NULL CONSTRAINT database_server_name_key UNIQUE
                                         CONSTRAINT database_server_name_format CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,38}[a-z0-9]$'),
    host                     text        NOT NULL,
    port                     integer     NOT NULL CONSTRAINT database_server_port CHECK (port BETWEEN 1 AND 65535),
    admin_user               text        NOT NULL,
    admin_password_encrypted text,
    key_version              integer     NOT NULL,
    capacity                 integer     NOT NULL DEFAULT 500 CONSTRAINT database_server_capacity CHECK (capacity > 0),
    max_connections          integer     CONSTRAINT database_server_max_connections CHECK (max_connections > 0),
    status                   text        NOT NULL DEFAULT 'active'
                                         CONSTRAINT database_server_status CHECK (status IN ('active', 'draining', 'down')),
    from_configuration       boolean     NOT NULL DEFAULT false,
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT database_server_address_key UNIQUE (host, port)
);
-- At most one server is the one of the configuration (MASTER_DB_HOST, PG_ADMIN_USER, ...).
CREATE UNIQUE INDEX database_server_from_configuration_key ON platform.database_server (from_configuration)
    WHERE from_configuration;
COMMENT ON TABLE platform.database_server IS
    'PostgreSQL servers holding tenant databases. New tenants go to the active server with the most free '
    'capacity; draining takes no new tenant; down answers its tenants with "server unavailable" at once.';
COMMENT ON COLUMN platform.database_server.from_configuration IS
    'The server of the configuration (.env / pgperm up), registered by this migration: every process reaches it '
    'as its own configuration says (as it reaches the master database), so a single-server setup registers '
    'nothing by hand; host, port and admin_user record the first start''s, for display.';
COMMENT ON COLUMN platform.database_server.admin_password_encrypted IS
    'The provisioning admin''s password, sealed with AES-256-GCM under key_version and bound to server_id; '
    'NULL when the server needs none (peer or trust authentication, .pgpass).';
COMMENT ON COLUMN platform.database_server.max_connections IS
    'The ceiling on tenant connections to this server per platform process; NULL means TENANT_MAX_CONNECTIONS.';

-- The configuration's server, with placeholder settings that the first start fills in
-- (MasterDatabase.prepare), so every existing tenant has a server from this migration on.
INSERT INTO platform.database_server (name, host, port, admin_user, key_version, from_configuration)
VALUES ('main', '', 5432, '', 0, true);

ALTER TABLE platform.tenant
    ADD COLUMN server_id uuid REFERENCES platform.database_server,
    ADD COLUMN auth_tenant_id uuid;
UPDATE platform.tenant SET server_id = (SELECT server_id FROM platform.database_server WHERE from_configuration);
ALTER TABLE platform.tenant ALTER COLUMN server_id SET NOT NULL;
CREATE INDEX tenant_server_id_idx ON platform.tenant (server_id);
COMMENT ON COLUMN platform.tenant.server_id IS 'The server holding the tenant''s database and roles.';
COMMENT ON COLUMN platform.tenant.auth_tenant_id IS
    'The tenant''s row inside its own database (auth.tenant.tenant_id), recorded when it is seeded.';

ALTER TABLE platform.audit_log
    ADD COLUMN admin_user_id uuid,
    ADD COLUMN tenant_id uuid;
CREATE INDEX audit_log_tenant_id_idx ON platform.audit_log (tenant_id, audit_id) WHERE tenant_id IS NOT NULL;
COMMENT ON COLUMN platform.audit_log.actor IS
    'Who acted: the signed-in admin''s email (portal), --actor or the OS user (CLI), else the database role.';
COMMENT ON COLUMN platform.audit_log.admin_user_id IS
    'The admin user who acted through the portal; kept when the admin user is deleted later (no foreign key).';
COMMENT ON COLUMN platform.audit_log.tenant_id IS 'The tenant concerned, kept across renames (tenant_slug is its slug then).';

-- A tenant being copied to another server (`pgperm tenant move`), and the last step done,
-- so a move interrupted at any point is resumed (or aborted) from there.
CREATE TABLE platform.tenant_move (
    tenant_id      uuid        PRIMARY KEY REFERENCES platform.tenant ON DELETE CASCADE,
    move_id        uuid        NOT NULL DEFAULT gen_random_uuid(),
    from_server_id uuid        NOT NULL REFERENCES platform.database_server,
    to_server_id   uuid        NOT NULL REFERENCES platform.database_server,
    step           text        NOT NULL CONSTRAINT tenant_move_step
                               CHECK (step IN ('started', 'prepared', 'frozen', 'copied', 'switched')),
    frozen_at      timestamptz,
    started_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tenant_move_to_server_id_idx ON platform.tenant_move (to_server_id);
COMMENT ON TABLE platform.tenant_move IS
    'Moves in progress: started → prepared (roles on the new server) → frozen (the old database read-only) → '
    'copied (pg_dump | pg_restore into a database made for this move) → switched (with every table of the old '
    'database locked against writes: row counts and checksums compared, then the registry names the new server, '
    'in one master transaction with this step); the old database is dropped after the switch and the row removed.';
COMMENT ON COLUMN platform.tenant_move.move_id IS
    'Marks (in their COMMENT) the roles and database this move created on the new server: it never adopts or '
    'drops anything else.';
