-- 0008: an index for paging a tenant's assignments (issue 16, item 3).
--
-- Applied once (install.sql guards it); a later fix ships as a new migration.
--
-- auth.list_permission_assignments pages a tenant's assignments by (created_at, assignment_id):
-- with this index a page reads its own rows only, wherever it starts, instead of sorting every
-- assignment of the tenant first.

CREATE INDEX permission_assignment_tenant_created_idx
    ON auth.permission_assignment (tenant_id, created_at, assignment_id);
