-- What every new tenant database starts with: a default permission catalogue and the
-- template permission sets that auth.create_tenant copies into the tenant. Applied by
-- `pgperm` to the template database (and to a tenant database built without the
-- template); safe to apply again.

DO $defaults$
DECLARE
    _code text;
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

    IF NOT EXISTS (SELECT FROM auth.perm_set WHERE tenant_id IS NULL AND code = 'TENANT_ADMIN') THEN
        PERFORM auth.create_perm_set(NULL, 'TENANT_ADMIN', 'Tenant Administrator', 'Full administrative access within the tenant');
        PERFORM auth.add_perm_set_permissions(NULL, 'TENANT_ADMIN', ARRAY['tenant', 'users', 'groups', 'permissions']);
    END IF;
    IF NOT EXISTS (SELECT FROM auth.perm_set WHERE tenant_id IS NULL AND code = 'STANDARD_USER') THEN
        PERFORM auth.create_perm_set(NULL, 'STANDARD_USER', 'Standard User', 'Sees the tenant''s users, groups and settings');
        PERFORM auth.add_perm_set_permissions(NULL, 'STANDARD_USER', ARRAY['tenant.view_settings', 'users.view', 'groups.view']);
    END IF;
END;
$defaults$;
