-- What every new tenant database starts with: a default permission catalogue and the
-- template permission sets that auth.create_tenant copies into the tenant. Applied by
-- `pgperm` to the template database (and to a tenant database built without the
-- template); safe to apply again.
--
-- Each piece is added only when missing, never reset: an application may declare more
-- codes in these sets (auth.apply_permission_catalogue), and a migration must not undo it.
-- Tenants created earlier keep the sets they were given; they copy a new template with
-- auth.duplicate_perm_set(NULL, tenant_id, 'SUPERUSER').
--
-- The template sets of the reference's roles (README, "Tenant roles"):
--   ADMIN      Admin: everything in the tenant (every top-level code of the catalogue below).
--   SUPERUSER  Superuser: everything but user and role administration: users, groups and
--              permissions are read-only; the tenant's settings are not.
--   USER       User: reads what they are allowed: the tenant's settings, users and groups.
-- TENANT_ADMIN and STANDARD_USER, the defaults before the roles, are kept for the tenants
-- and scripts that use them: they hold what ADMIN and USER hold.

DO $defaults$
DECLARE
    _code text;
    _set record;
BEGIN
    FOREACH _code IN ARRAY ARRAY[
        'tenant.view_settings', 'tenant.update_settings',
        'users.view', 'users.create_user', 'users.update_user', 'users.deactivate_user',
        'groups.view', 'groups.manage',
        'permissions.view', 'permissions.assign'] LOOP
        IF NOT EXISTS (SELECT FROM auth.permission WHERE code::text = _code) THEN
            PERFORM auth.create_permission(_code := _code, _name := initcap(replace(split_part(_code, '.', 2), '_', ' ')));
        END IF;
    END LOOP;

    FOR _set IN
        SELECT * FROM (VALUES
            ('ADMIN', 'Admin', 'Everything in the tenant',
             ARRAY['tenant', 'users', 'groups', 'permissions']),
            ('SUPERUSER', 'Superuser', 'Everything in the tenant but administering users, groups and permissions',
             ARRAY['tenant', 'users.view', 'groups.view', 'permissions.view']),
            ('USER', 'User', 'Reads the tenant''s settings, users and groups',
             ARRAY['tenant.view_settings', 'users.view', 'groups.view']),
            ('TENANT_ADMIN', 'Tenant Administrator', 'Full administrative access within the tenant',
             ARRAY['tenant', 'users', 'groups', 'permissions']),
            ('STANDARD_USER', 'Standard User', 'Sees the tenant''s users, groups and settings',
             ARRAY['tenant.view_settings', 'users.view', 'groups.view'])) AS s(code, name, description, codes)
    LOOP
        IF NOT EXISTS (SELECT FROM auth.perm_set WHERE tenant_id IS NULL AND code = _set.code) THEN
            PERFORM auth.create_perm_set(NULL, _set.code, _set.name, _set.description);
            PERFORM auth.add_perm_set_permissions(NULL, _set.code, _set.codes);
        END IF;
    END LOOP;
END;
$defaults$;
