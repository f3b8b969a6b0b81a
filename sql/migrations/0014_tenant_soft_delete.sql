-- 0014: tenant soft delete (issue 20, item 5).
--
-- Applied once (install.sql guards it); a later fix ships as a new migration.
--
-- A deleted tenant grants nothing at once and is unknown to every function, but keeps its
-- rows until it is purged, so auth.restore_tenant can bring it back whole.

ALTER TABLE auth.tenant ADD COLUMN deleted_at timestamptz;
COMMENT ON COLUMN auth.tenant.deleted_at IS
    'Set by auth.soft_delete_tenant: the tenant grants nothing and is unknown to the functions until '
    'auth.restore_tenant, or gone for good after auth.purge_deleted_tenants.';
CREATE INDEX tenant_deleted_idx ON auth.tenant (deleted_at) WHERE deleted_at IS NOT NULL;
