-- Every trigger of the auth schema. CREATE OR REPLACE TRIGGER (PostgreSQL 14+) makes this
-- file safe to re-apply. The functions they run are in functions/*.sql.
--
-- Effective-access triggers are statement-level with transition tables, so a statement
-- touching 10,000 rows refreshes the cache once, set-based. PostgreSQL allows transition
-- tables only on single-event triggers, hence one trigger per event.

-- Catalogue: fill ancestors on insert; codes and internal numbers never change. --------

CREATE OR REPLACE TRIGGER permission_before_insert
    BEFORE INSERT ON auth.permission
    FOR EACH ROW EXECUTE FUNCTION auth.tg_permission_before_insert();

-- The compiled catalogue (auth.permission_ancestors) follows every catalogue change.
CREATE OR REPLACE TRIGGER permission_lookup_rebuild
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON auth.permission
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_permission_lookup_rebuild();

-- Deleting a code deletes its descendants, by direct SQL too.
CREATE OR REPLACE TRIGGER permission_delete_subtree
    AFTER DELETE ON auth.permission
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_permission_delete_subtree();

CREATE OR REPLACE TRIGGER permission_immutable
    BEFORE UPDATE OF code, permission_no, ancestor_nos ON auth.permission
    FOR EACH ROW EXECUTE FUNCTION auth.tg_immutable_columns('code', 'permission_no', 'ancestor_nos');

-- A set or group never moves to another tenant (composite keys would dangle). ---------

CREATE OR REPLACE TRIGGER perm_set_immutable
    BEFORE UPDATE OF tenant_id ON auth.perm_set
    FOR EACH ROW EXECUTE FUNCTION auth.tg_immutable_columns('tenant_id');

CREATE OR REPLACE TRIGGER user_group_immutable
    BEFORE UPDATE OF tenant_id ON auth.user_group
    FOR EACH ROW EXECUTE FUNCTION auth.tg_immutable_columns('tenant_id');

CREATE OR REPLACE TRIGGER api_key_immutable
    BEFORE UPDATE OF tenant_id, user_id, key_hash ON auth.api_key
    FOR EACH ROW EXECUTE FUNCTION auth.tg_immutable_columns('tenant_id', 'user_id', 'key_hash');

CREATE OR REPLACE TRIGGER invitation_immutable
    BEFORE UPDATE OF tenant_id, token_hash ON auth.invitation
    FOR EACH ROW EXECUTE FUNCTION auth.tg_immutable_columns('tenant_id', 'token_hash');

CREATE OR REPLACE TRIGGER resource_grant_immutable
    BEFORE UPDATE OF tenant_id ON auth.resource_grant
    FOR EACH ROW EXECUTE FUNCTION auth.tg_immutable_columns('tenant_id');

-- A membership never changes hands: its effective_access row, group memberships and
-- ownership hang off its key. Remove it and add another instead.
CREATE OR REPLACE TRIGGER tenant_user_immutable
    BEFORE UPDATE OF tenant_id, user_id ON auth.tenant_user
    FOR EACH ROW EXECUTE FUNCTION auth.tg_immutable_columns('tenant_id', 'user_id');

-- Direct DML of owners: our errors, no ownership twice, the membership an owner needs. ----

CREATE OR REPLACE TRIGGER owner_before_write
    BEFORE INSERT OR UPDATE OF tenant_id, user_id, user_group_id ON auth.owner
    FOR EACH ROW EXECUTE FUNCTION auth.tg_owner_before_write();

-- A set's codes go before the set, so their audit rows still find its tenant. -----------

CREATE OR REPLACE TRIGGER perm_set_delete_contents
    BEFORE DELETE ON auth.perm_set
    FOR EACH ROW EXECUTE FUNCTION auth.tg_perm_set_delete_contents();

-- A membership is deleted under its tenant's lock (see effective_access.sql, lock order). --

CREATE OR REPLACE TRIGGER tenant_user_lock
    BEFORE DELETE ON auth.tenant_user
    FOR EACH ROW EXECUTE FUNCTION auth.tg_tenant_user_lock();

-- The change stamps of deleted tenants and users go with them (migration 0005).
CREATE OR REPLACE TRIGGER tenant_access_stamp_forget
    AFTER DELETE ON auth.tenant
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_access_stamp_forget();
CREATE OR REPLACE TRIGGER user_info_access_stamp_forget
    AFTER DELETE ON auth.user_info
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_access_stamp_forget();

-- updated_at follows every real change, direct UPDATEs included. -----------------------

CREATE OR REPLACE TRIGGER tenant_touch
    BEFORE UPDATE ON auth.tenant
    FOR EACH ROW EXECUTE FUNCTION auth.tg_touch_updated_at();
CREATE OR REPLACE TRIGGER user_info_touch
    BEFORE UPDATE ON auth.user_info
    FOR EACH ROW EXECUTE FUNCTION auth.tg_touch_updated_at();
CREATE OR REPLACE TRIGGER perm_set_touch
    BEFORE UPDATE ON auth.perm_set
    FOR EACH ROW EXECUTE FUNCTION auth.tg_touch_updated_at();
CREATE OR REPLACE TRIGGER user_group_touch
    BEFORE UPDATE ON auth.user_group
    FOR EACH ROW EXECUTE FUNCTION auth.tg_touch_updated_at();
CREATE OR REPLACE TRIGGER user_tenant_preference_touch
    BEFORE UPDATE ON auth.user_tenant_preference
    FOR EACH ROW EXECUTE FUNCTION auth.tg_touch_updated_at();

-- New tenants get a copy of every template set. ----------------------------------------

CREATE OR REPLACE TRIGGER tenant_copy_templates
    AFTER INSERT ON auth.tenant
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_tenant_copy_templates();

-- Effective access. Deletes of tenants, users, tenant_user, groups and sets need no
-- trigger here: they cascade to the rows below (or to effective_access itself). --------

CREATE OR REPLACE TRIGGER tenant_refresh_update
    AFTER UPDATE ON auth.tenant
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_tenant_refresh();

CREATE OR REPLACE TRIGGER user_info_refresh_update
    AFTER UPDATE ON auth.user_info
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_user_info_refresh();

CREATE OR REPLACE TRIGGER tenant_user_refresh_insert
    AFTER INSERT ON auth.tenant_user
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_tenant_user_refresh();
CREATE OR REPLACE TRIGGER tenant_user_refresh_update
    AFTER UPDATE ON auth.tenant_user
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_tenant_user_refresh();

CREATE OR REPLACE TRIGGER owner_refresh_insert
    AFTER INSERT ON auth.owner
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_refresh_pairs();
CREATE OR REPLACE TRIGGER owner_refresh_update
    AFTER UPDATE ON auth.owner
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_refresh_pairs();
CREATE OR REPLACE TRIGGER owner_refresh_delete
    AFTER DELETE ON auth.owner
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_refresh_pairs();

CREATE OR REPLACE TRIGGER user_group_refresh_update
    AFTER UPDATE ON auth.user_group
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_user_group_refresh();

CREATE OR REPLACE TRIGGER user_group_member_refresh_insert
    AFTER INSERT ON auth.user_group_member
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_refresh_pairs();
CREATE OR REPLACE TRIGGER user_group_member_refresh_update
    AFTER UPDATE ON auth.user_group_member
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_refresh_pairs();
CREATE OR REPLACE TRIGGER user_group_member_refresh_delete
    AFTER DELETE ON auth.user_group_member
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_refresh_pairs();

CREATE OR REPLACE TRIGGER permission_assignment_refresh_insert
    AFTER INSERT ON auth.permission_assignment
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_permission_assignment_refresh();
CREATE OR REPLACE TRIGGER permission_assignment_refresh_update
    AFTER UPDATE ON auth.permission_assignment
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_permission_assignment_refresh();
CREATE OR REPLACE TRIGGER permission_assignment_refresh_delete
    AFTER DELETE ON auth.permission_assignment
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_permission_assignment_refresh();

CREATE OR REPLACE TRIGGER perm_set_permission_refresh_insert
    AFTER INSERT ON auth.perm_set_permission
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_perm_set_permission_refresh();
CREATE OR REPLACE TRIGGER perm_set_permission_refresh_update
    AFTER UPDATE ON auth.perm_set_permission
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_perm_set_permission_refresh();
CREATE OR REPLACE TRIGGER perm_set_permission_refresh_delete
    AFTER DELETE ON auth.perm_set_permission
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_perm_set_permission_refresh();

-- Change events at commit on the channel auth_access_changed (functions/notifications.sql):
-- a check reads only these two tables. Rows written to effective_access are notified by
-- auth.refresh_effective_access itself; deletes (cascades too) and truncates here.

CREATE OR REPLACE TRIGGER effective_access_notify_delete
    AFTER DELETE ON auth.effective_access
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_effective_access_notify();
CREATE OR REPLACE TRIGGER effective_access_notify_truncate
    AFTER TRUNCATE ON auth.effective_access
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_effective_access_notify();
CREATE OR REPLACE TRIGGER permission_notify
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON auth.permission
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_permission_notify();

-- Audit: one row per changed row of every audited table. --------------------------------

CREATE OR REPLACE TRIGGER tenant_audit
    AFTER UPDATE OR DELETE ON auth.tenant
    FOR EACH ROW EXECUTE FUNCTION auth.tg_audit();
CREATE OR REPLACE TRIGGER tenant_audit_insert
    AFTER INSERT ON auth.tenant REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_audit_insert();
CREATE OR REPLACE TRIGGER user_info_audit
    AFTER UPDATE OR DELETE ON auth.user_info
    FOR EACH ROW EXECUTE FUNCTION auth.tg_audit();
CREATE OR REPLACE TRIGGER user_info_audit_insert
    AFTER INSERT ON auth.user_info REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_audit_insert();
CREATE OR REPLACE TRIGGER user_identity_audit
    AFTER UPDATE OR DELETE ON auth.user_identity
    FOR EACH ROW EXECUTE FUNCTION auth.tg_audit();
CREATE OR REPLACE TRIGGER user_identity_audit_insert
    AFTER INSERT ON auth.user_identity REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_audit_insert();
CREATE OR REPLACE TRIGGER tenant_user_audit
    AFTER UPDATE OR DELETE ON auth.tenant_user
    FOR EACH ROW EXECUTE FUNCTION auth.tg_audit();
CREATE OR REPLACE TRIGGER tenant_user_audit_insert
    AFTER INSERT ON auth.tenant_user REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_audit_insert();
CREATE OR REPLACE TRIGGER owner_audit
    AFTER UPDATE OR DELETE ON auth.owner
    FOR EACH ROW EXECUTE FUNCTION auth.tg_audit();
CREATE OR REPLACE TRIGGER owner_audit_insert
    AFTER INSERT ON auth.owner REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_audit_insert();
CREATE OR REPLACE TRIGGER permission_audit
    AFTER UPDATE OR DELETE ON auth.permission
    FOR EACH ROW EXECUTE FUNCTION auth.tg_audit();
CREATE OR REPLACE TRIGGER permission_audit_insert
    AFTER INSERT ON auth.permission REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_audit_insert();
CREATE OR REPLACE TRIGGER perm_set_audit
    AFTER UPDATE OR DELETE ON auth.perm_set
    FOR EACH ROW EXECUTE FUNCTION auth.tg_audit();
CREATE OR REPLACE TRIGGER perm_set_audit_insert
    AFTER INSERT ON auth.perm_set REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_audit_insert();
CREATE OR REPLACE TRIGGER perm_set_permission_audit
    AFTER UPDATE OR DELETE ON auth.perm_set_permission
    FOR EACH ROW EXECUTE FUNCTION auth.tg_audit();
CREATE OR REPLACE TRIGGER perm_set_permission_audit_insert
    AFTER INSERT ON auth.perm_set_permission REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_audit_insert();
CREATE OR REPLACE TRIGGER user_group_audit
    AFTER UPDATE OR DELETE ON auth.user_group
    FOR EACH ROW EXECUTE FUNCTION auth.tg_audit();
CREATE OR REPLACE TRIGGER user_group_audit_insert
    AFTER INSERT ON auth.user_group REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_audit_insert();
CREATE OR REPLACE TRIGGER user_group_member_audit
    AFTER UPDATE OR DELETE ON auth.user_group_member
    FOR EACH ROW EXECUTE FUNCTION auth.tg_audit();
CREATE OR REPLACE TRIGGER user_group_member_audit_insert
    AFTER INSERT ON auth.user_group_member REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_audit_insert();
CREATE OR REPLACE TRIGGER permission_assignment_audit
    AFTER UPDATE OR DELETE ON auth.permission_assignment
    FOR EACH ROW EXECUTE FUNCTION auth.tg_audit();
CREATE OR REPLACE TRIGGER permission_assignment_audit_insert
    AFTER INSERT ON auth.permission_assignment REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_audit_insert();
-- An API key's last use is no event: updates of it alone are not audited.
CREATE OR REPLACE TRIGGER api_key_audit
    AFTER UPDATE OF tenant_id, user_id, name, key_prefix, key_hash, expires_at, revoked_at OR DELETE ON auth.api_key
    FOR EACH ROW EXECUTE FUNCTION auth.tg_audit('key_hash');
CREATE OR REPLACE TRIGGER api_key_audit_insert
    AFTER INSERT ON auth.api_key REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_audit_insert('key_hash');
CREATE OR REPLACE TRIGGER invitation_audit
    AFTER UPDATE OR DELETE ON auth.invitation
    FOR EACH ROW EXECUTE FUNCTION auth.tg_audit('token_hash');
CREATE OR REPLACE TRIGGER invitation_audit_insert
    AFTER INSERT ON auth.invitation REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_audit_insert('token_hash');
-- Authenticators: enrolment, confirmation and removal are events; each code used is not.
-- Recovery codes made and spent are. Secrets and hashes are redacted.
CREATE OR REPLACE TRIGGER user_totp_audit
    AFTER UPDATE OF user_id, secret_sealed, enabled_at OR DELETE ON auth.user_totp
    FOR EACH ROW EXECUTE FUNCTION auth.tg_audit('secret_sealed');
CREATE OR REPLACE TRIGGER user_totp_audit_insert
    AFTER INSERT ON auth.user_totp REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_audit_insert('secret_sealed');
CREATE OR REPLACE TRIGGER user_recovery_code_audit
    AFTER UPDATE OF used_at ON auth.user_recovery_code
    FOR EACH ROW EXECUTE FUNCTION auth.tg_audit('code_hash');
CREATE OR REPLACE TRIGGER user_recovery_code_audit_insert
    AFTER INSERT ON auth.user_recovery_code REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_audit_insert('code_hash');
CREATE OR REPLACE TRIGGER resource_grant_audit
    AFTER UPDATE OR DELETE ON auth.resource_grant
    FOR EACH ROW EXECUTE FUNCTION auth.tg_audit();
CREATE OR REPLACE TRIGGER resource_grant_audit_insert
    AFTER INSERT ON auth.resource_grant REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_audit_insert();
CREATE OR REPLACE TRIGGER user_tenant_preference_audit
    AFTER UPDATE OR DELETE ON auth.user_tenant_preference
    FOR EACH ROW EXECUTE FUNCTION auth.tg_audit();
CREATE OR REPLACE TRIGGER user_tenant_preference_audit_insert
    AFTER INSERT ON auth.user_tenant_preference REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_audit_insert();

-- Passwords: a new password and a lock (set or lifted) are events; each counted failure is
-- not, or every wrong guess would write the log. The hash itself is redacted.
CREATE OR REPLACE TRIGGER user_password_audit
    AFTER DELETE ON auth.user_password
    FOR EACH ROW EXECUTE FUNCTION auth.tg_audit('password_hash');
CREATE OR REPLACE TRIGGER user_password_audit_insert
    AFTER INSERT ON auth.user_password REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION auth.tg_audit_insert('password_hash');
CREATE OR REPLACE TRIGGER user_password_audit_update
    AFTER UPDATE ON auth.user_password
    FOR EACH ROW WHEN (OLD.password_hash IS DISTINCT FROM NEW.password_hash
                       OR OLD.locked_until IS DISTINCT FROM NEW.locked_until)
    EXECUTE FUNCTION auth.tg_audit('password_hash');
