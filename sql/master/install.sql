-- The platform's master database: tenant registry, admin users, organizations, SSO
-- settings, migration results and the platform audit log.
--
--   psql -v ON_ERROR_STOP=1 -d pgperm_master -f sql/master/install.sql
--
-- `pgperm` applies it on start-up (component "master"); like sql/install.sql, files under
-- migrations/ are applied once and the others whenever they change, and each file's
-- record_applied line carries the checksum pgperm computes (a test keeps them true).

\set ON_ERROR_STOP on
BEGIN;
SELECT pg_advisory_xact_lock(hashtextextended('pgperm.install', 0));
\ir ../meta.sql
SELECT pgperm.record_applied('pgperm', 'meta.sql', '5bfdb0e1c74bbb41');

SELECT pgperm.is_pending('master', 'master/migrations/0001_master_schema.sql') AS pending \gset
\if :pending
\ir migrations/0001_master_schema.sql
SELECT pgperm.record_applied('master', 'master/migrations/0001_master_schema.sql', '053c73e669b687fd');
\endif
SELECT pgperm.is_pending('master', 'master/migrations/0002_portal_sessions.sql') AS pending \gset
\if :pending
\ir migrations/0002_portal_sessions.sql
SELECT pgperm.record_applied('master', 'master/migrations/0002_portal_sessions.sql', 'cf9c04eaa4b80b10');
\endif
SELECT pgperm.is_pending('master', 'master/migrations/0003_database_servers.sql') AS pending \gset
\if :pending
\ir migrations/0003_database_servers.sql
SELECT pgperm.record_applied('master', 'master/migrations/0003_database_servers.sql', '83962ab10a2fd38a');
\endif
SELECT pgperm.is_pending('master', 'master/migrations/0005_sso_login.sql') AS pending \gset
\if :pending
\ir migrations/0005_sso_login.sql
SELECT pgperm.record_applied('master', 'master/migrations/0005_sso_login.sql', '4ce82f49efae554f');
\endif

\ir functions/passwords.sql
SELECT pgperm.record_applied('master', 'master/functions/passwords.sql', '092ed35f2f710e46');
\ir functions/sessions.sql
SELECT pgperm.record_applied('master', 'master/functions/sessions.sql', 'f5441634c1073c0a');
COMMIT;
