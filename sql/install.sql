-- The auth schema: permissions model for PostgreSQL.
--
--   psql -v ON_ERROR_STOP=1 -d DATABASE -f sql/install.sql
--
-- This file is also the manifest `pgperm install` reads: every `\ir` line names a file,
-- in the order they are applied. Files under migrations/ are applied once and never
-- edited afterwards (a fix ships as a new migration); every other file is written to be
-- re-applied (CREATE OR REPLACE) and is re-applied whenever it changes.
-- Everything runs in one transaction under an advisory lock: it all applies or nothing does.
-- After each file, its record_applied line stores the checksum `pgperm install` computes for
-- it, so `pgperm status` finds a psql install up to date. Edit a file, and its checksum here
-- must follow: the test suite fails (InstallerAgreementTests) and prints the line to write.
-- The roles created by privileges.sql are named <role_prefix>_app and <role_prefix>_admin:
--   psql -v ON_ERROR_STOP=1 -v role_prefix=myapp -d DATABASE -f sql/install.sql

\set ON_ERROR_STOP on
BEGIN;
SELECT pg_advisory_xact_lock(hashtextextended('pgperm.install', 0));
\if :{?role_prefix}
SELECT set_config('pgperm.role_prefix', :'role_prefix', true);
\endif
\ir meta.sql
SELECT pgperm.record_applied('pgperm', 'meta.sql', '5bfdb0e1c74bbb41');

-- Migrations: tables, types, indexes.
SELECT pgperm.is_pending('auth', 'migrations/0001_auth_schema.sql') AS pending \gset
\if :pending
\ir migrations/0001_auth_schema.sql
SELECT pgperm.record_applied('auth', 'migrations/0001_auth_schema.sql', 'ad0cac034faf6549');
\endif
SELECT pgperm.is_pending('auth', 'migrations/0002_user_password.sql') AS pending \gset
\if :pending
\ir migrations/0002_user_password.sql
SELECT pgperm.record_applied('auth', 'migrations/0002_user_password.sql', '38f6867236e44563');
\endif
SELECT pgperm.is_pending('auth', 'migrations/0003_length_limits.sql') AS pending \gset
\if :pending
\ir migrations/0003_length_limits.sql
SELECT pgperm.record_applied('auth', 'migrations/0003_length_limits.sql', '827de91629810805');
\endif
SELECT pgperm.is_pending('auth', 'migrations/0004_member_key_index.sql') AS pending \gset
\if :pending
\ir migrations/0004_member_key_index.sql
SELECT pgperm.record_applied('auth', 'migrations/0004_member_key_index.sql', 'dd5629c2ceb71179');
\endif
SELECT pgperm.is_pending('auth', 'migrations/0005_access_stamps.sql') AS pending \gset
\if :pending
\ir migrations/0005_access_stamps.sql
SELECT pgperm.record_applied('auth', 'migrations/0005_access_stamps.sql', '05572009b99d39de');
\endif
SELECT pgperm.is_pending('auth', 'migrations/0006_force_deletes.sql') AS pending \gset
\if :pending
\ir migrations/0006_force_deletes.sql
SELECT pgperm.record_applied('auth', 'migrations/0006_force_deletes.sql', 'dc8628b60cee0935');
\endif
SELECT pgperm.is_pending('auth', 'migrations/0007_owner_trigger.sql') AS pending \gset
\if :pending
\ir migrations/0007_owner_trigger.sql
SELECT pgperm.record_applied('auth', 'migrations/0007_owner_trigger.sql', 'c32a3366987a11b3');
\endif
SELECT pgperm.is_pending('auth', 'migrations/0008_assignment_paging_index.sql') AS pending \gset
\if :pending
\ir migrations/0008_assignment_paging_index.sql
SELECT pgperm.record_applied('auth', 'migrations/0008_assignment_paging_index.sql', '8cc55eb1ee2778a5');
\endif
SELECT pgperm.is_pending('auth', 'migrations/0010_user_identity.sql') AS pending \gset
\if :pending
\ir migrations/0010_user_identity.sql
SELECT pgperm.record_applied('auth', 'migrations/0010_user_identity.sql', '7c51d4264282d6b7');
\endif
SELECT pgperm.is_pending('auth', 'migrations/0011_resource_grants.sql') AS pending \gset
\if :pending
\ir migrations/0011_resource_grants.sql
SELECT pgperm.record_applied('auth', 'migrations/0011_resource_grants.sql', 'ff5f26ea255462dd');
\endif
SELECT pgperm.is_pending('auth', 'migrations/0012_api_keys.sql') AS pending \gset
\if :pending
\ir migrations/0012_api_keys.sql
SELECT pgperm.record_applied('auth', 'migrations/0012_api_keys.sql', '6a94294319f02765');
\endif
SELECT pgperm.is_pending('auth', 'migrations/0013_invitations.sql') AS pending \gset
\if :pending
\ir migrations/0013_invitations.sql
SELECT pgperm.record_applied('auth', 'migrations/0013_invitations.sql', 'c8ee2e610e42c043');
\endif
SELECT pgperm.is_pending('auth', 'migrations/0014_tenant_soft_delete.sql') AS pending \gset
\if :pending
\ir migrations/0014_tenant_soft_delete.sql
SELECT pgperm.record_applied('auth', 'migrations/0014_tenant_soft_delete.sql', '1fe7cbb26ff8e586');
\endif
SELECT pgperm.is_pending('auth', 'migrations/0015_second_factor.sql') AS pending \gset
\if :pending
\ir migrations/0015_second_factor.sql
SELECT pgperm.record_applied('auth', 'migrations/0015_second_factor.sql', 'a0c91ebe63085ffe');
\endif

-- Functions, triggers and privileges: re-applied when changed.
\ir functions/context.sql
SELECT pgperm.record_applied('auth', 'functions/context.sql', 'da8f2c0db1085c4c');
\ir functions/internal.sql
SELECT pgperm.record_applied('auth', 'functions/internal.sql', '7d04d9c42f66036c');
\ir functions/notifications.sql
SELECT pgperm.record_applied('auth', 'functions/notifications.sql', 'd0113dd7cd51822c');
\ir functions/effective_access.sql
SELECT pgperm.record_applied('auth', 'functions/effective_access.sql', 'b0a8fb498aef6e99');
\ir functions/users.sql
SELECT pgperm.record_applied('auth', 'functions/users.sql', '7fda2f4cf6ae2f8c');
\ir functions/tenants.sql
SELECT pgperm.record_applied('auth', 'functions/tenants.sql', '0f328435eda16412');
\ir functions/catalogue.sql
SELECT pgperm.record_applied('auth', 'functions/catalogue.sql', 'c307095185c1eccf');
\ir functions/perm_sets.sql
SELECT pgperm.record_applied('auth', 'functions/perm_sets.sql', 'ddaa073fe4f2ed14');
\ir functions/groups.sql
SELECT pgperm.record_applied('auth', 'functions/groups.sql', '08792be763f02be3');
\ir functions/assignments.sql
SELECT pgperm.record_applied('auth', 'functions/assignments.sql', '3de96c76b078aef6');
\ir functions/permission_lookup.sql
SELECT pgperm.record_applied('auth', 'functions/permission_lookup.sql', '75148782379fff8e');
\ir functions/checks.sql
SELECT pgperm.record_applied('auth', 'functions/checks.sql', '6860c00aa41553ca');
\ir functions/explain.sql
SELECT pgperm.record_applied('auth', 'functions/explain.sql', 'c1536186e18a8e72');
\ir functions/lists.sql
SELECT pgperm.record_applied('auth', 'functions/lists.sql', '2ec896d6ca0ebac6');
\ir functions/catalogue_apply.sql
SELECT pgperm.record_applied('auth', 'functions/catalogue_apply.sql', 'c3f3704ee6b37722');
\ir functions/preferences.sql
SELECT pgperm.record_applied('auth', 'functions/preferences.sql', '63d4eec9d1b197d3');
\ir functions/audit.sql
SELECT pgperm.record_applied('auth', 'functions/audit.sql', '6266d756234f7e83');
\ir functions/tenant_isolation.sql
SELECT pgperm.record_applied('auth', 'functions/tenant_isolation.sql', 'a506e59067214cad');
\ir functions/passwords.sql
SELECT pgperm.record_applied('auth', 'functions/passwords.sql', 'e978ad47f88421dc');
\ir functions/resources.sql
SELECT pgperm.record_applied('auth', 'functions/resources.sql', '6ef8ab068be0f8a3');
\ir functions/secrets.sql
SELECT pgperm.record_applied('auth', 'functions/secrets.sql', '3601dc96c96cc380');
\ir functions/api_keys.sql
SELECT pgperm.record_applied('auth', 'functions/api_keys.sql', 'b5cdb197858eb7a3');
\ir functions/invitations.sql
SELECT pgperm.record_applied('auth', 'functions/invitations.sql', '1077c1ac0d1f30bf');
\ir functions/second_factor.sql
SELECT pgperm.record_applied('auth', 'functions/second_factor.sql', 'c20ded9dbd894e7b');
\ir functions/identities.sql
SELECT pgperm.record_applied('auth', 'functions/identities.sql', '7de6774f5301fbeb');
\ir triggers.sql
SELECT pgperm.record_applied('auth', 'triggers.sql', '1b1c18a84b23688a');

-- Roles and grants: re-applied after every install that changed anything.
\ir privileges.sql
SELECT pgperm.record_applied('auth', 'privileges.sql', '953cbeab0a8fa333');
COMMIT;
