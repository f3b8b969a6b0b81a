import Foundation
import Permissions
import PQ
import Testing

/// Soft delete: a deleted tenant grants nothing at once and is unknown to the functions; a
/// restore brings it back whole; a purge removes it for good.
@Suite("Tenants: soft delete, restore and purge")
struct TenantSoftDeleteTests {
    @Test("a deleted tenant grants nothing at once, is unknown everywhere, and comes back whole")
    func deleteAndRestore() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["reports.view"])
            let owner = try await f.user("owner")
            let tenant = try await f.tenant("Acme", owner: owner)
            let user = try await f.member(of: tenant)
            try await f.auth.assignPermission(tenant: tenant, to: .user(user), grant: .permission("reports.view"))
            let code = try await f.sql("SELECT code FROM auth.tenant WHERE tenant_id = $1", [tenant]).scalar(String.self)

            try await f.auth.softDeleteTenant(tenant)
            #expect(try await f.auth.hasPermission(tenant: tenant, user: user, code: "reports.view") == false)
            #expect(try await f.auth.hasPermission(tenant: tenant, user: owner, code: "reports.view") == false, "owners too")
            #expect(try await f.auth.checkTenantAccess(tenant: tenant, user: user) == false)
            await expectError(.unknownTenant) { _ = try await f.auth.tenant(code: code) }
            await expectError(.unknownTenant) { _ = try await f.auth.listTenantUsers(tenant) }
            await expectError(.unknownTenant) { try await f.auth.addUserToTenant(tenant, user: try await f.user("late")) }
            await expectError(.unknownTenant) { try await f.auth.softDeleteTenant(tenant) }
            do {
                try await f.auth.activateTenant(tenant)
                Issue.record("a deleted tenant was activated")
            } catch let error as PermissionsError {
                #expect(error.code == .unknownTenant && error.detail?.contains("was deleted at") == true)
                #expect(error.hint?.contains("auth.restore_tenant") == true)
            }
            // The code stays taken meanwhile.
            await expectError(.tenantCodeTaken) { _ = try await f.auth.createTenant(name: "Again", code: code) }

            try await f.auth.restoreTenant(tenant)
            try await f.auth.restoreTenant(tenant)  // again: nothing to do
            #expect(try await f.auth.hasPermission(tenant: tenant, user: user, code: "reports.view"))
            #expect(try await f.auth.hasPermission(tenant: tenant, user: owner, code: "reports.view"))
            #expect(try await f.auth.tenant(code: code).id == tenant)
            let actions = try await f.auth.listAuditLog(tenant: tenant, action: "tenant.update").count
            #expect(actions == 2, "the deletion and the restore are audited")
        }
    }

    @Test("a purge removes the tenants deleted before the time given, for good, and nothing else")
    func purge() async throws {
        try await AuthFixture.run { f in
            let old = try await f.tenant("Old"), recent = try await f.tenant("Recent"), live = try await f.tenant("Live")
            let member = try await f.member(of: old)
            try await f.auth.softDeleteTenant(old)
            try await f.sql("UPDATE auth.tenant SET deleted_at = now() - interval '31 days' WHERE tenant_id = $1", [old])
            try await f.auth.softDeleteTenant(recent)
            #expect(try await f.auth.purgeDeletedTenants(deletedBefore: Date().addingTimeInterval(-30 * 86_400)) == 1)
            await expectError(.unknownTenant) { try await f.auth.restoreTenant(old) }
            #expect(try await f.sql("SELECT count(*) FROM auth.tenant_user WHERE user_id = $1", [member]).scalar(Int.self) == 0)
            try await f.auth.restoreTenant(recent)
            #expect(try await f.auth.purgeDeletedTenants() == 0)
            #expect(try await f.sql("SELECT count(*) FROM auth.tenant WHERE tenant_id = ANY($1)", [[recent, live]]).scalar(Int.self) == 2)
            #expect(try await !f.auth.listAuditLog(tenant: old, pageSize: 500).isEmpty, "history outlives the purge")
            await expectError(.unknownTenant) { try await f.auth.restoreTenant(TenantID(UUID())) }
            await expectError(.invalidArgument) { try await f.call("SELECT auth.purge_deleted_tenants(NULL)") }
        }
    }
}
