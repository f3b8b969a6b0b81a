-- The auth schema: permissions model for PostgreSQL.
--
--   psql -v ON_ERROR_STOP=1 -d DATABASE -f sql/install.sql
--
-- This file is also the manifest `pgperm install` reads: every `\ir` line names a file,
-- in the order they are applied. Files under migrations/ are applied once and never
-- edited afterwards (a fix ships as a new migration); every other file is written to be
-- re-applied (CREATE OR REPLACE) and is re-applied whenever it changes.
-- Everything runs in one transaction under an advisory lock: it all applies or nothing does.
-- The roles created by privileges.sql are named <role_prefix>_app and <role_prefix>_admin:
--   psql -v ON_ERROR_STOP=1 -v role_prefix=myapp -d DATABASE -f sql/install.sql

\set ON_ERROR_STOP on
BEGIN;
SELECT pg_advisory_xact_lock(hashtextextended('pgperm.install', 0));
\if :{?role_prefix}
SELECT set_config('pgperm.role_prefix', :'role_prefix', true);
\endif
\ir meta.sql

-- Migrations: tables, types, indexes.
SELECT pgperm.is_pending('auth', 'migrations/0001_auth_schema.sql') AS pending \gset
\if :pending
\ir migrations/0001_auth_schema.sql
SELECT pgperm.record_applied('auth', 'migrations/0001_auth_schema.sql');
\endif
SELECT pgperm.is_pending('auth', 'migrations/0002_user_password.sql') AS pending \gset
\if :pending
\ir migrations/0002_user_password.sql
SELECT pgperm.record_applied('auth', 'migrations/0002_user_password.sql');
\endif
SELECT pgperm.is_pending('auth', 'migrations/0003_length_limits.sql') AS pending \gset
\if :pending
\ir migrations/0003_length_limits.sql
SELECT pgperm.record_applied('auth', 'migrations/0003_length_limits.sql');
\endif
SELECT pgperm.is_pending('auth', 'migrations/0004_member_key_index.sql') AS pending \gset
\if :pending
\ir migrations/0004_member_key_index.sql
SELECT pgperm.record_applied('auth', 'migrations/0004_member_key_index.sql');
\endif
SELECT pgperm.is_pending('auth', 'migrations/0005_access_stamps.sql') AS pending \gset
\if :pending
\ir migrations/0005_access_stamps.sql
SELECT pgperm.record_applied('auth', 'migrations/0005_access_stamps.sql');
\endif
SELECT pgperm.is_pending('auth', 'migrations/0006_force_deletes.sql') AS pending \gset
\if :pending
\ir migrations/0006_force_deletes.sql
SELECT pgperm.record_applied('auth', 'migrations/0006_force_deletes.sql');
\endif

-- Functions, triggers and privileges: re-applied when changed.
\ir functions/context.sql
\ir functions/internal.sql
\ir functions/effective_access.sql
\ir functions/users.sql
\ir functions/tenants.sql
\ir functions/catalogue.sql
\ir functions/perm_sets.sql
\ir functions/groups.sql
\ir functions/assignments.sql
\ir functions/permission_lookup.sql
\ir functions/checks.sql
\ir functions/preferences.sql
\ir functions/audit.sql
\ir functions/tenant_isolation.sql
\ir functions/passwords.sql
\ir triggers.sql

-- Roles and grants: re-applied after every install that changed anything.
\ir privileges.sql
COMMIT;
