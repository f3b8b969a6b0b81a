-- Installer bookkeeping: which files of which component were applied, and their checksums.
-- Idempotent: run first by every install, from psql (install.sql) and from `pgperm install`.

CREATE SCHEMA IF NOT EXISTS pgperm;
COMMENT ON SCHEMA pgperm IS 'Bookkeeping of the pgperm schema installer.';

CREATE TABLE IF NOT EXISTS pgperm.applied_file (
    component  text        NOT NULL,
    path       text        NOT NULL,
    checksum   text,
    applied_at timestamptz NOT NULL DEFAULT now(),
    applied_by name        NOT NULL DEFAULT session_user,
    PRIMARY KEY (component, path)
);
COMMENT ON TABLE pgperm.applied_file IS
    'One row per SQL file applied by the installer. Files under migrations/ are applied once; '
    'other files are re-applied when their checksum changes. install.sql records the same checksums '
    'as `pgperm install`; a NULL checksum was recorded by an older install.sql, and the next '
    '`pgperm install` re-applies or records that file.';

CREATE OR REPLACE FUNCTION pgperm.is_pending(_component text, _path text)
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = ''
AS $$
    SELECT NOT EXISTS (
        SELECT 1 FROM pgperm.applied_file f
        WHERE f.component = _component AND f.path = _path)
$$;
COMMENT ON FUNCTION pgperm.is_pending(text, text) IS
    'True when the migration file has not been applied yet (used by install.sql under psql).';

CREATE OR REPLACE FUNCTION pgperm.record_applied(_component text, _path text, _checksum text DEFAULT NULL)
RETURNS void
LANGUAGE sql
SET search_path = ''
AS $$
    INSERT INTO pgperm.applied_file (component, path, checksum)
    VALUES (_component, _path, _checksum)
    ON CONFLICT (component, path) DO UPDATE
        SET checksum = EXCLUDED.checksum, applied_at = now(), applied_by = session_user
$$;
COMMENT ON FUNCTION pgperm.record_applied(text, text, text) IS
    'Records that a file of a component was applied, with its checksum when known.';

CREATE TABLE IF NOT EXISTS pgperm.install_setting (
    component text NOT NULL,
    name      text NOT NULL,
    value     text NOT NULL,
    PRIMARY KEY (component, name)
);
COMMENT ON TABLE pgperm.install_setting IS
    'Choices an install made that later installs keep unless told otherwise, such as the auth schema''s '
    'role prefix (name role_prefix), so re-running install.sql without -v role_prefix keeps the roles.';
