-- Least privilege: two NOLOGIN group roles, and EXECUTE granted per function.
--
--   <prefix>_app    applications: checks, the tenant context, reads of a tenant's users,
--                   statistics, group ownership and the catalogue, the user's preferences, login
--                   (verify_user_password). It cannot write any table directly.
--   <prefix>_admin  administration: everything the app role can do (it is a member of it),
--                   every function that manages tenants, users, sets, groups, assignments
--                   and the catalogue, passwords, the audit log, and direct DML on the source
--                   tables (the triggers keep the check cache and the audit log right).
--                   Neither role reads a password hash: only the definer functions do.
--
-- The prefix is the setting pgperm.role_prefix (default auth): `pgperm install --role-prefix`,
-- or `psql -v role_prefix=...` with install.sql. A DBA grants the roles to login roles:
--   GRANT auth_app TO my_service;   GRANT auth_admin TO alice;
--
-- After it runs, these two roles are the only ones holding anything in the schemas auth and
-- pgperm (their owner aside): grants to any other role are revoked. Roles belong to the
-- whole server and grants to one database, so a database copied from another (the
-- platform's template) or installed before under another prefix would otherwise keep
-- granting its old roles, and every member of those roles would reach this database. The
-- platform installs each tenant database with a prefix of its own for this reason.
--
-- Re-run after every install that changes anything, so a new function never keeps
-- PostgreSQL's default EXECUTE for PUBLIC. Internal helpers (assert_*, find_*, lock_tenants,
-- resolve_assignment, rebuild_permission_lookup, trigger functions) are granted to nobody:
-- the SECURITY DEFINER functions that use them run as the schema owner.

DO $privileges$
DECLARE
    -- The prefix asked for (psql -v role_prefix, pgperm install --role-prefix), else the one
    -- the last install used (remembered since this file's version; before it, found as the
    -- NOLOGIN <prefix>_app role this database's check function is explicitly granted to:
    -- explicitly, since a new function is executable by PUBLIC, so by every role), else
    -- auth: re-running an install keeps the roles it made.
    _prefix text := coalesce(nullif(current_setting('pgperm.role_prefix', true), ''),
                             (SELECT s.value FROM pgperm.install_setting s
                               WHERE s.component = 'auth' AND s.name = 'role_prefix'),
                             (SELECT left(r.rolname, -4)
                                FROM pg_catalog.pg_proc p
                               CROSS JOIN LATERAL pg_catalog.aclexplode(p.proacl) AS grant_row
                                JOIN pg_catalog.pg_roles r ON r.oid = grant_row.grantee
                               WHERE p.oid = pg_catalog.to_regprocedure('auth.has_permission(uuid,uuid,text)')
                                 AND grant_row.privilege_type = 'EXECUTE'
                                 AND r.rolname LIKE '%\_app' AND NOT r.rolcanlogin
                                 AND EXISTS (SELECT FROM pg_catalog.pg_roles a WHERE a.rolname = left(r.rolname, -4) || '_admin')
                               ORDER BY r.rolname LIMIT 1),
                             'auth');
    _app    text := _prefix || '_app';
    _admin  text := _prefix || '_admin';
    _role   text;
    _function text;
    _schemas regnamespace[];

    -- SECURITY INVOKER checks read these two tables with the caller's rights.
    _app_tables text[] := ARRAY['auth.effective_access', 'auth.permission', 'auth.resource_grant'];
    _app_functions text[] := ARRAY[
        'auth.has_permission(uuid, uuid, text)',
        'auth.has_permissions(uuid, uuid, text[], boolean)',
        'auth.require_permission(uuid, uuid, text)',
        'auth.get_user_permissions(uuid, uuid)',
        'auth.has_resource_permission(uuid, uuid, text, text, text)',
        'auth.filter_resource_ids(uuid, uuid, text, text[], text)',
        'auth.can_access_resource(text, text, text)',
        'auth.check_tenant_access(uuid, uuid)',
        -- The check path: the compiled catalogue and the unknown-code error.
        'auth.permission_ancestors(text)',
        'auth.lookup_permission_ancestors(text)',
        'auth.raise_permission_not_found(text)',
        'auth.set_actor(uuid)',
        'auth.current_actor()',
        'auth.set_tenant_context(uuid, uuid)',
        'auth.current_tenant_id()',
        'auth.get_tenant_users(uuid, boolean)',
        'auth.get_tenant_statistics(uuid)',
        'auth.get_tenant_by_code(text)',
        'auth.list_tenant_users(uuid, text, boolean, integer, text)',
        'auth.get_tenant_user(uuid, uuid)',
        -- The catalogue, paged: the role reads auth.permission already.
        'auth.list_permissions(integer, text)',
        'auth.is_group_owner(uuid, uuid, uuid)',
        'auth.get_user_preferences(uuid, uuid)',
        'auth.set_user_preference(uuid, uuid, text, text)',
        'auth.delete_user_preference(uuid, uuid, text)',
        -- Login. Setting a password is administration: with it an application could take
        -- over any account, so a self-service change would need its own function that
        -- checks the old password.
        'auth.verify_user_password(text, text)',
        -- The second step of a login with an authenticator, and what a sign-in page needs to
        -- know: whether the user has one, and whether the tenant requires one.
        'auth.verify_second_factor(uuid, text)',
        'auth.second_factor_step(uuid, uuid)',
        'auth.get_second_factor(uuid)',
        'auth.get_second_factor_policy(uuid)',
        -- A service's key: its tenant and technical user, or nothing.
        'auth.authenticate_api_key(text)',
        -- Single sign-on: the user an identity at a provider signs in as.
        'auth.get_user_by_identity(text, text)'];
    -- Tables an administrator may change directly, as the reference's examples do.
    _admin_tables text[] := ARRAY[
        'auth.tenant', 'auth.user_info', 'auth.tenant_user', 'auth.user_group', 'auth.owner',
        'auth.user_group_member', 'auth.permission', 'auth.perm_set', 'auth.perm_set_permission',
        'auth.permission_assignment', 'auth.user_tenant_preference', 'auth.resource_grant'];
    _admin_functions text[] := ARRAY[
        'auth.create_user(text, text, text)',
        'auth.update_user(uuid, text, text, text)',
        'auth.deactivate_user(uuid)',
        'auth.activate_user(uuid)',
        'auth.delete_user(uuid, boolean)',
        'auth.create_tenant(text, text, uuid)',
        'auth.update_tenant(uuid, text, text)',
        'auth.deactivate_tenant(uuid)',
        'auth.activate_tenant(uuid)',
        'auth.delete_tenant(uuid)',
        'auth.soft_delete_tenant(uuid)',
        'auth.restore_tenant(uuid)',
        'auth.purge_deleted_tenants(timestamptz)',
        'auth.add_user_to_tenant(uuid, uuid)',
        'auth.remove_user_from_tenant(uuid, uuid, boolean)',
        'auth.assign_tenant_owner(uuid, uuid)',
        'auth.transfer_tenant_ownership(uuid, uuid)',
        'auth.create_permission(text, text, text)',
        'auth.delete_permission(text, boolean)',
        'auth.create_perm_set(uuid, text, text, text)',
        'auth.add_perm_set_permissions(uuid, text, text[])',
        'auth.remove_perm_set_permissions(uuid, text, text[])',
        'auth.delete_perm_set(uuid, text, boolean)',
        'auth.duplicate_perm_set(uuid, uuid, text)',
        'auth.create_user_group(uuid, text, text)',
        'auth.add_user_to_group(uuid, uuid, uuid)',
        'auth.remove_user_from_group(uuid, uuid, uuid)',
        'auth.deactivate_user_group(uuid, uuid)',
        'auth.activate_user_group(uuid, uuid)',
        'auth.delete_user_group(uuid, uuid)',
        'auth.assign_group_owner(uuid, uuid, uuid)',
        'auth.remove_group_owner(uuid, uuid, uuid)',
        'auth.assign_permission(uuid, uuid, uuid, text, text)',
        'auth.unassign_permission(uuid, uuid, uuid, text, text)',
        'auth.grant_resource_permission(uuid, text, text, text, uuid, uuid)',
        'auth.deny_resource_permission(uuid, text, text, text, uuid, uuid)',
        'auth.revoke_resource_permission(uuid, text, text, text, uuid, uuid)',
        'auth.get_resource_grants(uuid, text, text)',
        'auth.create_api_key(uuid, text, timestamptz, text, text[])',
        'auth.revoke_api_key(uuid, uuid)',
        'auth.list_api_keys(uuid, integer, timestamptz, uuid)',
        'auth.create_invitation(uuid, text, timestamptz, text, uuid)',
        'auth.accept_invitation(text, text, text)',
        'auth.revoke_invitation(uuid, uuid)',
        'auth.list_invitations(uuid, integer, timestamptz, uuid)',
        'auth.list_user_groups(uuid, integer, text)',
        'auth.get_user_group(uuid, uuid)',
        'auth.update_user_group(uuid, uuid, text, text)',
        'auth.list_group_owners(uuid, uuid, integer, text)',
        'auth.list_group_members(uuid, uuid, integer, text)',
        'auth.list_perm_sets(uuid, integer, text)',
        'auth.get_perm_set(uuid, text)',
        'auth.update_perm_set(uuid, text, text, text)',
        'auth.list_perm_set_permissions(uuid, text, integer, text)',
        'auth.list_permission_assignments(uuid, uuid, uuid, text, integer, timestamptz, uuid)',
        'auth.explain_permission(uuid, uuid, text)',
        'auth.apply_permission_catalogue(jsonb, boolean)',
        'auth.get_audit_log(uuid, timestamptz, timestamptz, integer)',
        'auth.list_audit_log(uuid, boolean, text, uuid, integer, bigint)',
        'auth.refresh_effective_access(uuid[], uuid[])',
        'auth.enable_tenant_isolation(regclass, name)',
        'auth.set_user_password(uuid, text)',
        'auth.unlock_user(uuid)',
        -- Enrolling a user's authenticator is administration, as setting a password is: with
        -- it an application could lock a user out of a tenant that requires one.
        'auth.begin_totp_enrolment(uuid, text)',
        'auth.confirm_totp_enrolment(uuid, text)',
        'auth.disable_totp(uuid)',
        'auth.cancel_totp_enrolment(uuid)',
        'auth.regenerate_recovery_codes(uuid)',
        'auth.set_second_factor_policy(uuid, text)',
        'auth.link_user_identity(uuid, text, text, text)',
        'auth.unlink_user_identity(uuid, text, text)',
        'auth.get_user_identities(uuid)',
        'auth.get_tenant_member_by_email(uuid, text)'];
BEGIN
    IF _prefix !~ '^[a-z_][a-z0-9_]{0,50}$' THEN
        RAISE EXCEPTION 'invalid role prefix'
            USING ERRCODE = 'QI001',
                  DETAIL = format('pgperm.role_prefix %L is not lower-case letters, digits and _ (max 51).', _prefix),
                  HINT = 'Use e.g. auth or myapp_auth.';
    END IF;

    -- Roles belong to the cluster: another database may be creating the same role right
    -- now (its install holds its own database's lock only), so losing that race is fine.
    FOREACH _role IN ARRAY ARRAY[_app, _admin] LOOP
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles r WHERE r.rolname = _role) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', _role);
                EXECUTE format('COMMENT ON ROLE %I IS %L', _role, CASE _role
                    WHEN _app THEN 'pgperm: applications (permission checks, tenant context, preferences)'
                    ELSE 'pgperm: administration of tenants, users, sets, groups and assignments' END);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;
            END;
        END IF;
    END LOOP;
    -- Only when missing: granting it again makes PostgreSQL say so in a NOTICE on every install.
    IF NOT pg_catalog.pg_has_role(_admin, _app, 'MEMBER') THEN
        EXECUTE format('GRANT %I TO %I', _app, _admin);
    END IF;

    -- Start from nothing: PostgreSQL grants EXECUTE on new functions to PUBLIC, and every
    -- other role loses what it holds here (see the top of this file).
    _schemas := ARRAY['auth'::regnamespace, 'pgperm'::regnamespace];
    FOR _role IN
        SELECT DISTINCT acl.grantee::regrole::text
          FROM (SELECT (aclexplode(n.nspacl)).grantee, n.nspowner AS owner
                  FROM pg_catalog.pg_namespace n WHERE n.oid = ANY (_schemas)
                UNION ALL
                SELECT (aclexplode(c.relacl)).grantee, c.relowner
                  FROM pg_catalog.pg_class c WHERE c.relnamespace = ANY (_schemas)
                UNION ALL
                SELECT (aclexplode(a.attacl)).grantee, c.relowner
                  FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
                 WHERE c.relnamespace = ANY (_schemas)
                UNION ALL
                SELECT (aclexplode(p.proacl)).grantee, p.proowner
                  FROM pg_catalog.pg_proc p WHERE p.pronamespace = ANY (_schemas)) acl
         WHERE acl.grantee <> 0 AND acl.grantee <> acl.owner
           AND acl.grantee::regrole::text NOT IN (quote_ident(_app), quote_ident(_admin))
    LOOP
        EXECUTE format('REVOKE ALL ON SCHEMA auth, pgperm FROM %s', _role);
        EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA auth, pgperm FROM %s', _role);
        EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA auth, pgperm FROM %s', _role);
        EXECUTE format('REVOKE ALL ON ALL FUNCTIONS IN SCHEMA auth, pgperm FROM %s', _role);
    END LOOP;
    REVOKE ALL ON SCHEMA auth, pgperm FROM PUBLIC;
    REVOKE ALL ON ALL FUNCTIONS IN SCHEMA auth, pgperm FROM PUBLIC;
    REVOKE ALL ON ALL TABLES IN SCHEMA auth, pgperm FROM PUBLIC;
    REVOKE ALL ON ALL SEQUENCES IN SCHEMA auth, pgperm FROM PUBLIC;
    FOREACH _role IN ARRAY ARRAY[_app, _admin] LOOP
        EXECUTE format('REVOKE ALL ON ALL FUNCTIONS IN SCHEMA auth FROM %I', _role);
        EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA auth FROM %I', _role);
    END LOOP;

    EXECUTE format('GRANT USAGE ON SCHEMA auth TO %I', _app);
    FOREACH _function IN ARRAY _app_functions LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', _function::regprocedure, _app);
    END LOOP;
    EXECUTE format('GRANT SELECT ON %s TO %I', array_to_string(_app_tables, ', '), _app);

    FOREACH _function IN ARRAY _admin_functions LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', _function::regprocedure, _admin);
    END LOOP;
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA auth TO %I', _admin);
    -- Every column of the passwords but the hash, so an administrator sees who is locked out.
    EXECUTE format('REVOKE SELECT ON auth.user_password FROM %I', _admin);
    EXECUTE format('GRANT SELECT (user_id, failed_attempts, first_failed_at, locked_until, changed_at) '
                   'ON auth.user_password TO %I', _admin);
    -- The keys' pepper to nobody, and their hashes neither: the functions alone use them.
    EXECUTE format('REVOKE SELECT ON auth.secret_pepper, auth.api_key, auth.invitation FROM %I', _admin);
    EXECUTE format('GRANT SELECT (api_key_id, tenant_id, user_id, name, key_prefix, expires_at, created_at, revoked_at, '
                   'last_used_at) ON auth.api_key TO %I', _admin);
    EXECUTE format('GRANT SELECT (invitation_id, tenant_id, email, perm_set_id, user_group_id, expires_at, created_at, '
                   'invited_by, accepted_at, accepted_user_id, revoked_at) ON auth.invitation TO %I', _admin);
    EXECUTE format('REVOKE SELECT ON auth.user_totp, auth.user_recovery_code FROM %I', _admin);
    EXECUTE format('GRANT SELECT (user_id, created_at, enabled_at, last_used_step) ON auth.user_totp TO %I', _admin);
    EXECUTE format('GRANT SELECT (user_id, used_at) ON auth.user_recovery_code TO %I', _admin);
    EXECUTE format('GRANT INSERT, UPDATE, DELETE ON %s TO %I', array_to_string(_admin_tables, ', '), _admin);

    INSERT INTO pgperm.install_setting (component, name, value) VALUES ('auth', 'role_prefix', _prefix)
    ON CONFLICT (component, name) DO UPDATE SET value = EXCLUDED.value;
END;
$privileges$;
