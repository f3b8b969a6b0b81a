-- What ends portal sessions for good, whoever makes the change (the portal, the CLI, psql):
-- the sessions go in the same transaction as the change, so no later change (re-activating
-- the admin, resuming the tenant) can bring them back.

CREATE OR REPLACE FUNCTION platform.tg_admin_user_end_sessions()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    -- Deactivated, or a new password (whoever knew the old one may have signed in with it),
    -- or a superadmin made a regular admin with no tenant (it can do nothing).
    DELETE FROM platform.portal_session s
     USING new_rows n JOIN old_rows o ON o.admin_user_id = n.admin_user_id
     WHERE s.admin_user_id = n.admin_user_id
       AND ((o.is_active AND NOT n.is_active) OR o.password_hash IS DISTINCT FROM n.password_hash
            OR (o.is_superadmin AND NOT n.is_superadmin
                AND NOT EXISTS (SELECT FROM platform.admin_user_tenant g WHERE g.admin_user_id = n.admin_user_id)));
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION platform.tg_admin_user_end_sessions() IS
    'Trigger (AFTER UPDATE on platform.admin_user, statement): ends the sessions of admins deactivated, given a new password, or demoted with no tenant.';

CREATE OR REPLACE FUNCTION platform.tg_admin_user_tenant_end_sessions()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    -- A regular admin whose last tenant was revoked can do nothing: sign them out.
    DELETE FROM platform.portal_session s
     USING platform.admin_user a
     WHERE s.admin_user_id = a.admin_user_id
       AND a.admin_user_id IN (SELECT o.admin_user_id FROM old_rows o)
       AND NOT a.is_superadmin
       AND NOT EXISTS (SELECT FROM platform.admin_user_tenant g WHERE g.admin_user_id = a.admin_user_id);
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION platform.tg_admin_user_tenant_end_sessions() IS
    'Trigger (AFTER DELETE on platform.admin_user_tenant, statement): ends the sessions of regular admins left with no tenant.';

CREATE OR REPLACE FUNCTION platform.tg_tenant_end_sessions()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    -- A tenant that stops being active (suspended, failed) signs its users out.
    DELETE FROM platform.portal_session s
     USING new_rows n JOIN old_rows o ON o.tenant_id = n.tenant_id
     WHERE s.tenant_id = n.tenant_id
       AND o.status = 'active' AND n.status <> 'active';
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION platform.tg_tenant_end_sessions() IS
    'Trigger (AFTER UPDATE on platform.tenant, statement): ends the tenant-user sessions of tenants that stop being active.';

CREATE OR REPLACE TRIGGER admin_user_end_sessions
    AFTER UPDATE ON platform.admin_user
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION platform.tg_admin_user_end_sessions();
CREATE OR REPLACE TRIGGER admin_user_tenant_end_sessions
    AFTER DELETE ON platform.admin_user_tenant
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION platform.tg_admin_user_tenant_end_sessions();
CREATE OR REPLACE TRIGGER tenant_end_sessions
    AFTER UPDATE ON platform.tenant
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION platform.tg_tenant_end_sessions();
