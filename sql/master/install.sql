-- The platform's master database: tenant registry, admin users, organizations, SSO
-- settings, migration results and the platform audit log.
--
--   psql -v ON_ERROR_STOP=1 -d pgperm_master -f sql/master/install.sql
--
-- `pgperm` applies it on start-up (component "master"); like sql/install.sql, files under
-- migrations/ are applied once and the others whenever they change.

\set ON_ERROR_STOP on
BEGIN;
SELECT pg_advisory_xact_lock(hashtextextended('pgperm.install', 0));
\ir ../meta.sql

SELECT pgperm.is_pending('master', 'master/migrations/0001_master_schema.sql') AS pending \gset
\if :pending
\ir migrations/0001_master_schema.sql
SELECT pgperm.record_applied('master', 'master/migrations/0001_master_schema.sql');
\endif
SELECT pgperm.is_pending('master', 'master/migrations/0002_portal_sessions.sql') AS pending \gset
\if :pending
\ir migrations/0002_portal_sessions.sql
SELECT pgperm.record_applied('master', 'master/migrations/0002_portal_sessions.sql');
\endif
SELECT pgperm.is_pending('master', 'master/migrations/0003_database_servers.sql') AS pending \gset
\if :pending
\ir migrations/0003_database_servers.sql
SELECT pgperm.record_applied('master', 'master/migrations/0003_database_servers.sql');
\endif

\ir functions/passwords.sql
\ir functions/sessions.sql
COMMIT;
