-- 0011: access to individual resources (issue 20, item 1).
--
-- Applied once (install.sql guards it); a later fix ships as a new migration.
--
-- A permission code granted, or denied, on one resource of a tenant (a document, a project:
-- a type and an id) to a member or a group. The check reads two rows' worth of index: the
-- member's auth.effective_access row, which now also lists the active groups of the member
-- (group_ids), and the grants of that one resource. Grants grant nothing to a member without
-- live access, as everywhere else.

ALTER TABLE auth.effective_access ADD COLUMN group_ids uuid[] NOT NULL DEFAULT '{}';
COMMENT ON COLUMN auth.effective_access.group_ids IS
    'The active groups of the tenant the member is in: the grantees whose resource grants reach the member.';

UPDATE auth.effective_access ea
   SET group_ids = ARRAY(SELECT m.user_group_id
                           FROM auth.user_group_member m
                           JOIN auth.user_group g ON g.user_group_id = m.user_group_id AND g.is_active
                          WHERE m.tenant_id = ea.tenant_id AND m.user_id = ea.user_id
                          ORDER BY m.user_group_id);

CREATE TABLE auth.resource_grant (
    resource_grant_id uuid        NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    tenant_id         uuid        NOT NULL REFERENCES auth.tenant (tenant_id) ON DELETE CASCADE,
    resource_type     text        NOT NULL
                                  CONSTRAINT resource_grant_type_check CHECK (resource_type ~ '^[a-z][a-z0-9_]{0,62}$'),
    resource_id       text        NOT NULL
                                  CONSTRAINT resource_grant_id_check CHECK (length(resource_id) BETWEEN 1 AND 255),
    user_id           uuid,
    user_group_id     uuid,
    permission_no     integer     NOT NULL REFERENCES auth.permission (permission_no) ON DELETE CASCADE,
    is_deny           boolean     NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT resource_grant_grantee_check CHECK ((user_id IS NULL) <> (user_group_id IS NULL)),
    CONSTRAINT resource_grant_member_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES auth.tenant_user (tenant_id, user_id) ON DELETE CASCADE,
    CONSTRAINT resource_grant_group_fkey FOREIGN KEY (tenant_id, user_group_id)
        REFERENCES auth.user_group (tenant_id, user_group_id) ON DELETE CASCADE
);
-- One state per (resource, grantee, code): granted or denied. Its leading columns are the
-- check's probe: every grant of one resource, whatever the number of resources.
CREATE UNIQUE INDEX resource_grant_key
    ON auth.resource_grant (tenant_id, resource_type, resource_id, coalesce(user_id, user_group_id), permission_no);
-- The foreign keys' cascades find a member's and a group's grants without a scan.
CREATE INDEX resource_grant_user_idx ON auth.resource_grant (tenant_id, user_id) WHERE user_id IS NOT NULL;
CREATE INDEX resource_grant_group_idx ON auth.resource_grant (tenant_id, user_group_id) WHERE user_group_id IS NOT NULL;
CREATE INDEX resource_grant_permission_idx ON auth.resource_grant (permission_no);

COMMENT ON TABLE auth.resource_grant IS
    'A permission code granted (or, is_deny, denied) on one resource of a tenant to a member or a group of it. '
    'A deny overrides every grant of the code on that resource, tenant-wide ones included; the owner passes.';
COMMENT ON COLUMN auth.resource_grant.resource_type IS 'What kind of resource: lower-case letters, digits and _, e.g. document.';
COMMENT ON COLUMN auth.resource_grant.resource_id IS 'The resource''s id in the application, as text (a uuid, a number, a key): 1 to 255 characters.';
COMMENT ON COLUMN auth.resource_grant.permission_no IS 'The code granted or denied (its descendants with it), by its internal number.';
