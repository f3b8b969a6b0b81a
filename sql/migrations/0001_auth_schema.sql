-- 0001: the auth schema's tables, constraints and indexes.
--
-- Applied once (install.sql guards it). Functions and triggers live in files that are
-- re-applied on every install, so nothing here may depend on them. Plain CREATE (no
-- IF NOT EXISTS): an existing object of the same name is a conflict to fail on, not
-- something to adopt silently.

CREATE EXTENSION IF NOT EXISTS ltree;

CREATE SCHEMA auth;
COMMENT ON SCHEMA auth IS
    'Permissions model: tenants, users, groups, a hierarchical permission catalogue, '
    'permission sets, assignments, ownership, preferences and audit. Call its functions; '
    'auth.has_permission is the check.';

-- Tenants and users ------------------------------------------------------------------

CREATE TABLE auth.tenant (
    tenant_id  uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    name       text        NOT NULL CONSTRAINT tenant_name_not_blank CHECK (btrim(name) <> ''),
    code       text        CONSTRAINT tenant_code_key UNIQUE
                           CONSTRAINT tenant_code_format CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$'),
    is_active  boolean     NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE auth.tenant IS
    'An organisation whose users, groups, permission sets and assignments are isolated from every other tenant. '
    'Deactivating a tenant denies every check in it; deleting it deletes everything it holds.';
COMMENT ON COLUMN auth.tenant.code IS 'Short unique identifier (case-sensitive), e.g. ACME: a letter or digit, then up to 62 letters, digits, _ or -.';

CREATE TABLE auth.user_info (
    user_id      uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    username     text        NOT NULL CONSTRAINT user_info_username_not_blank CHECK (btrim(username) <> ''),
    email        text,
    display_name text,
    is_active    boolean     NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
-- Usernames are unique regardless of case: "Alice" and "alice" are one person.
CREATE UNIQUE INDEX user_info_username_key ON auth.user_info (lower(username));
COMMENT ON TABLE auth.user_info IS
    'A person known to the system, across tenants. An inactive user fails every check in every tenant.';
COMMENT ON COLUMN auth.user_info.username IS 'Unique, compared case-insensitively.';

CREATE TABLE auth.tenant_user (
    tenant_id uuid        NOT NULL REFERENCES auth.tenant ON DELETE CASCADE,
    user_id   uuid        NOT NULL REFERENCES auth.user_info ON DELETE CASCADE,
    is_active boolean     NOT NULL DEFAULT true,
    joined_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX tenant_user_user_id_idx ON auth.tenant_user (user_id);
COMMENT ON TABLE auth.tenant_user IS
    'Membership of a user in a tenant. is_active = false is a soft removal: the user keeps '
    'group memberships and assignments but fails every check in the tenant. Deleting the row '
    'removes the user''s groups, ownerships, assignments and preferences in that tenant.';

-- Groups and ownership ---------------------------------------------------------------

CREATE TABLE auth.user_group (
    user_group_id uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     uuid        NOT NULL REFERENCES auth.tenant ON DELETE CASCADE,
    code          text        NOT NULL CONSTRAINT user_group_code_format CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$'),
    name          text        NOT NULL CONSTRAINT user_group_name_not_blank CHECK (btrim(name) <> ''),
    is_active     boolean     NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_group_tenant_code_key UNIQUE (tenant_id, code),
    -- Target of the composite foreign keys that keep a group inside its tenant.
    CONSTRAINT user_group_tenant_group_key UNIQUE (tenant_id, user_group_id)
);
COMMENT ON TABLE auth.user_group IS
    'A group of members of one tenant. Assignments to an active group apply to its members; '
    'an inactive group grants nothing. tenant_id cannot change.';

CREATE TABLE auth.owner (
    owner_id      uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     uuid        NOT NULL,
    user_group_id uuid,
    user_id       uuid        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- An owner, of the tenant or of one of its groups, is a member of the tenant.
    CONSTRAINT owner_member_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES auth.tenant_user (tenant_id, user_id) ON DELETE CASCADE,
    CONSTRAINT owner_group_fkey FOREIGN KEY (tenant_id, user_group_id)
        REFERENCES auth.user_group (tenant_id, user_group_id) ON DELETE CASCADE,
    CONSTRAINT owner_group_owner_key UNIQUE (user_group_id, user_id)
);
CREATE UNIQUE INDEX owner_tenant_owner_key ON auth.owner (tenant_id, user_id) WHERE user_group_id IS NULL;
CREATE INDEX owner_tenant_id_user_id_idx ON auth.owner (tenant_id, user_id);
COMMENT ON TABLE auth.owner IS
    'Owners. user_group_id NULL: an owner of the tenant, who passes every check in it while the '
    'membership is live. Otherwise an owner of that group, which grants no permission.';
COMMENT ON COLUMN auth.owner.user_group_id IS 'NULL for a tenant owner; the owned group otherwise.';

CREATE TABLE auth.user_group_member (
    tenant_id     uuid        NOT NULL,
    user_group_id uuid        NOT NULL,
    user_id       uuid        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_group_id, user_id),
    CONSTRAINT user_group_member_group_fkey FOREIGN KEY (tenant_id, user_group_id)
        REFERENCES auth.user_group (tenant_id, user_group_id) ON DELETE CASCADE,
    -- A group member must be a member of the group's tenant.
    CONSTRAINT user_group_member_member_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES auth.tenant_user (tenant_id, user_id) ON DELETE CASCADE
);
CREATE INDEX user_group_member_tenant_user_idx ON auth.user_group_member (tenant_id, user_id);
COMMENT ON TABLE auth.user_group_member IS 'Members of a group; each is a member of the group''s tenant.';

-- Permission catalogue and sets ------------------------------------------------------

CREATE TABLE auth.permission (
    permission_id uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    code          ltree       NOT NULL CONSTRAINT permission_code_key UNIQUE
                              CONSTRAINT permission_code_format CHECK (code::text ~ '^[a-z0-9_]+(\.[a-z0-9_]+)*$'),
    name          text        NOT NULL CONSTRAINT permission_name_not_blank CHECK (btrim(name) <> ''),
    description   text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    permission_no integer     GENERATED ALWAYS AS IDENTITY CONSTRAINT permission_no_key UNIQUE,
    ancestor_nos  integer[]   NOT NULL
                              CONSTRAINT permission_ancestor_nos_end_with_self
                              CHECK (ancestor_nos[cardinality(ancestor_nos)] = permission_no)
);
-- Functions look codes up as text, so they never need the ltree type or its operators
-- (which live wherever the extension was installed).
CREATE UNIQUE INDEX permission_code_text_key ON auth.permission ((code::text));
COMMENT ON TABLE auth.permission IS
    'Global catalogue of permission codes such as users.create_user. Holding a code grants every '
    'code below it, never the one above. Every ancestor of a code exists (added automatically). '
    'Codes cannot change; delete and recreate instead.';
COMMENT ON COLUMN auth.permission.code IS 'Dotted path of lower-case segments of letters, digits and _.';
COMMENT ON COLUMN auth.permission.permission_no IS 'Internal compact number used by auth.effective_access.';
COMMENT ON COLUMN auth.permission.ancestor_nos IS
    'Internal: permission_no of every ancestor, root first, ending with this code''s own. Holding any of them grants this code.';

CREATE TABLE auth.perm_set (
    perm_set_id uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id   uuid        REFERENCES auth.tenant ON DELETE CASCADE,
    code        text        NOT NULL CONSTRAINT perm_set_code_format CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$'),
    name        text        NOT NULL CONSTRAINT perm_set_name_not_blank CHECK (btrim(name) <> ''),
    description text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    -- Templates (tenant_id NULL) have unique codes too.
    CONSTRAINT perm_set_tenant_code_key UNIQUE NULLS NOT DISTINCT (tenant_id, code),
    -- Target of the composite foreign key that keeps an assigned set inside its tenant.
    CONSTRAINT perm_set_tenant_set_key UNIQUE (tenant_id, perm_set_id)
);
COMMENT ON TABLE auth.perm_set IS
    'A named set of permission codes belonging to one tenant. Sets with tenant_id NULL are '
    'templates: every new tenant gets its own copy of each. tenant_id cannot change.';
COMMENT ON COLUMN auth.perm_set.tenant_id IS 'Owning tenant; NULL for a template.';

CREATE TABLE auth.perm_set_permission (
    perm_set_id   uuid NOT NULL REFERENCES auth.perm_set ON DELETE CASCADE,
    permission_id uuid NOT NULL REFERENCES auth.permission ON DELETE CASCADE,
    PRIMARY KEY (perm_set_id, permission_id)
);
CREATE INDEX perm_set_permission_permission_id_idx ON auth.perm_set_permission (permission_id);
COMMENT ON TABLE auth.perm_set_permission IS 'The codes in each permission set.';

-- Assignments ------------------------------------------------------------------------

CREATE TABLE auth.permission_assignment (
    assignment_id uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     uuid        NOT NULL,
    user_id       uuid,
    user_group_id uuid,
    perm_set_id   uuid,
    permission_id uuid        REFERENCES auth.permission ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT permission_assignment_one_grantee CHECK (num_nonnulls(user_id, user_group_id) = 1),
    CONSTRAINT permission_assignment_one_grant CHECK (num_nonnulls(perm_set_id, permission_id) = 1),
    -- Composite keys: a user, group or set of another tenant cannot be referenced.
    CONSTRAINT permission_assignment_member_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES auth.tenant_user (tenant_id, user_id) ON DELETE CASCADE,
    CONSTRAINT permission_assignment_group_fkey FOREIGN KEY (tenant_id, user_group_id)
        REFERENCES auth.user_group (tenant_id, user_group_id) ON DELETE CASCADE,
    CONSTRAINT permission_assignment_perm_set_fkey FOREIGN KEY (tenant_id, perm_set_id)
        REFERENCES auth.perm_set (tenant_id, perm_set_id) ON DELETE CASCADE,
    CONSTRAINT permission_assignment_key
        UNIQUE NULLS NOT DISTINCT (tenant_id, user_id, user_group_id, perm_set_id, permission_id)
);
-- For cascades and for finding who is affected when a group or set changes.
CREATE INDEX permission_assignment_group_idx ON auth.permission_assignment (user_group_id) WHERE user_group_id IS NOT NULL;
CREATE INDEX permission_assignment_perm_set_idx ON auth.permission_assignment (perm_set_id) WHERE perm_set_id IS NOT NULL;
CREATE INDEX permission_assignment_permission_idx ON auth.permission_assignment (permission_id) WHERE permission_id IS NOT NULL;
COMMENT ON TABLE auth.permission_assignment IS
    'Grants in a tenant: a permission set or a single code, to a member or to a group of that tenant. '
    'Exactly one of user_id/user_group_id and exactly one of perm_set_id/permission_id is set.';

-- Preferences ------------------------------------------------------------------------

CREATE TABLE auth.user_tenant_preference (
    user_id          uuid        NOT NULL,
    tenant_id        uuid        NOT NULL,
    preference_key   text        NOT NULL CONSTRAINT user_tenant_preference_key_not_blank CHECK (btrim(preference_key) <> ''),
    preference_value text,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, tenant_id, preference_key),
    -- Preferences belong to a membership and go with it.
    CONSTRAINT user_tenant_preference_member_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES auth.tenant_user (tenant_id, user_id) ON DELETE CASCADE
);
CREATE INDEX user_tenant_preference_tenant_user_idx ON auth.user_tenant_preference (tenant_id, user_id);
COMMENT ON TABLE auth.user_tenant_preference IS 'Free-form key/value settings of a member in one tenant (e.g. theme = dark).';

-- Audit ------------------------------------------------------------------------------

CREATE TABLE auth.audit_log (
    audit_id      bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    tenant_id     uuid,
    actor_user_id uuid,
    db_role       name        NOT NULL DEFAULT session_user,
    action        text        NOT NULL,
    details       jsonb       NOT NULL
);
CREATE INDEX audit_log_tenant_occurred_idx ON auth.audit_log (tenant_id, occurred_at);
COMMENT ON TABLE auth.audit_log IS
    'One row per inserted, updated or deleted row of the auth tables, whether the change came '
    'through a function or direct DML. Written by triggers; never updated.';
COMMENT ON COLUMN auth.audit_log.tenant_id IS 'Tenant concerned; NULL for global rows (users, catalogue, templates). No foreign key: history outlives tenants.';
COMMENT ON COLUMN auth.audit_log.actor_user_id IS 'Application user set with auth.set_actor in the transaction; NULL when unset.';
COMMENT ON COLUMN auth.audit_log.db_role IS 'session_user: the database login that made the change.';
COMMENT ON COLUMN auth.audit_log.action IS '<table>.<insert|update|delete>, e.g. tenant_user.update.';
COMMENT ON COLUMN auth.audit_log.details IS 'The row: {"new": ...} for inserts, {"old": ...} for deletes, {"old": ..., "new": ...} for updates.';

-- Effective access (internal cache) --------------------------------------------------

CREATE TABLE auth.effective_access (
    tenant_id      uuid      NOT NULL,
    user_id        uuid      NOT NULL,
    is_owner       boolean   NOT NULL,
    permission_nos integer[] NOT NULL,
    PRIMARY KEY (tenant_id, user_id),
    CONSTRAINT effective_access_member_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES auth.tenant_user (tenant_id, user_id) ON DELETE CASCADE
);
COMMENT ON TABLE auth.effective_access IS
    'Internal cache behind auth.has_permission, maintained by triggers in the same transaction as '
    'every change. One row per live membership (tenant, user and membership all active); none otherwise.';
COMMENT ON COLUMN auth.effective_access.is_owner IS 'The user owns the tenant and so passes every check in it.';
COMMENT ON COLUMN auth.effective_access.permission_nos IS
    'permission_no of each code granted directly or through active groups (not expanded to descendants).';
