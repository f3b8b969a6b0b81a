import Foundation
import PlatformTestSupport
import PQ
import TenantPlatform
import Testing

@Suite("Platform: a master change and its audit row commit together")
struct MasterChangeTests {
    @Test("an update writes exactly one audit row, in the same transaction as the change, with the values before")
    func oneAuditRowInTheSameTransaction() async throws {
        try await PlatformFixture.run { f in
            try await f.provisioner.create(name: "Acme", slug: "acme")
            let before = try await f.auditActions()
            try await f.lifecycle.update(slug: "acme", TenantChange(name: "Acme Inc", slug: "acme-inc", status: .inactive))
            #expect(try await f.auditActions() == before + ["tenant.update"])
            // Rows written by one transaction carry its id as xmin.
            #expect(try await f.masterStrings("""
                SELECT (a.xmin = t.xmin)::text FROM platform.audit_log a, platform.tenant t
                 WHERE a.action = 'tenant.update' AND t.slug = 'acme-inc'
                """) == ["true"])
            #expect(try await f.masterStrings("SELECT details::text FROM platform.audit_log WHERE action = 'tenant.update'") == [
                #"{"name": "Acme Inc", "slug": "acme-inc", "status": "inactive", "old_name": "Acme", "old_slug": "acme", "old_status": "active"}"#,
            ])
        }
    }

    @Test("when the audit row cannot be written, the change is rolled back: tenants, organizations, admin users")
    func failedAuditRollsBack() async throws {
        try await PlatformFixture.run { f in
            try await f.provisioner.create(name: "Acme", slug: "acme")
            let acme = try await f.platform.directory.require(slug: "acme")
            try await f.refuseAuditRows()

            await #expect(throws: PostgresError.self) {
                try await f.lifecycle.update(slug: "acme", TenantChange(name: "Acme Inc", slug: "acme-inc"))
            }
            await #expect(throws: PostgresError.self) { try await f.lifecycle.suspend(slug: "acme") }
            #expect(try await f.platform.directory.require(slug: "acme") == acme)
            _ = try await f.withTenantConnection("acme") { try await $0.query("SELECT 1") }

            await #expect(throws: PostgresError.self) { try await f.lifecycle.credentials(slug: "acme") }
            await #expect(throws: PostgresError.self) {
                try await f.platform.organizations.create(name: "Acme Group", adminEmail: "it@acme.example")
            }
            #expect(try await f.platform.organizations.all().isEmpty)
            await #expect(throws: PostgresError.self) {
                try await f.platform.adminUsers.create(email: "ops@example.com", password: nil, superadmin: true)
            }
            #expect(try await f.platform.adminUsers.all().isEmpty)

            try await f.allowAuditRows()
            try await f.lifecycle.suspend(slug: "acme")
            #expect(try await f.auditActions().last == "tenant.suspend")
        }
    }

    @Test("an update with any invalid field writes nothing, audit included")
    func invalidUpdateWritesNothing() async throws {
        try await PlatformFixture.run { f in
            try await f.provisioner.create(name: "Acme", slug: "acme")
            let acme = try await f.platform.directory.require(slug: "acme")
            let audit = try await f.auditActions()
            let refused: [(TenantChange, PlatformError.Code)] = [
                (TenantChange(name: "A\u{0}", slug: "acme9"), .invalidName),
                (TenantChange(name: "A\u{7}b", slug: "acme9"), .invalidName),
                (TenantChange(name: " \n", slug: "acme9"), .invalidName),
                (TenantChange(name: String(repeating: "x", count: DisplayName.maximumLength + 1)), .invalidName),
                (TenantChange(name: "Fine", slug: "Not A Slug"), .invalidSlug),
                (TenantChange(name: "Fine", status: .failed), .invalidStatus),
            ]
            for (change, kind) in refused {
                #expect(await platformErrorKind { try await f.lifecycle.update(slug: "acme", change) } == kind, "\(change)")
            }
            #expect(await platformErrorKind { _ = try TenantChange.status("provisioning") } == .invalidStatus)
            #expect(try await f.platform.directory.require(slug: "acme") == acme)
            #expect(try await f.auditActions() == audit)

            // A status is only set on a tenant whose creation finished.
            _ = try await f.masterStrings("UPDATE platform.tenant SET status = 'failed' WHERE slug = 'acme' RETURNING slug")
            #expect(await platformErrorKind { try await f.lifecycle.resume(slug: "acme") } == .tenantNotActive)
            #expect(try await f.auditActions() == audit)
        }
    }

    @Test("a change names its actor: the operator at the command line (no admin id), else the database role")
    func actorOfAChange() async throws {
        try await PlatformFixture.run { f in
            let start = try await f.masterStrings("SELECT coalesce(max(audit_id), 0)::text FROM platform.audit_log")[0]
            try await AuditActor.$current.withValue(.commandLine("ops")) {
                try await f.provisioner.create(name: "Acme", slug: "acme")
                try await f.lifecycle.update(slug: "acme", TenantChange(name: "Acme Inc", slug: "acme-inc"))
                _ = try await f.lifecycle.credentials(slug: "acme-inc")
                try await f.lifecycle.suspend(slug: "acme-inc")
                try await f.lifecycle.resume(slug: "acme-inc")
                _ = try await f.platform.adminUsers.create(email: "eu@example.com", password: nil, superadmin: false)
                try await f.platform.adminUsers.grant(tenant: "acme-inc", to: "eu@example.com")
                try await f.platform.adminUsers.revoke(tenant: "acme-inc", from: "eu@example.com")
            }
            let ops = try await f.masterStrings("""
                SELECT concat_ws(' ', action, actor, coalesce(admin_user_id::text, '-'))
                  FROM platform.audit_log WHERE audit_id > $1::bigint ORDER BY audit_id
                """, [start])
            #expect(ops == [
                "tenant.create ops -", "tenant.update ops -", "tenant.credentials_shown ops -", "tenant.suspend ops -",
                "tenant.resume ops -", "admin_user.create ops -", "admin_user.grant ops -", "admin_user.revoke ops -",
            ])

            // With no name, the OS user; with no actor at all, the database role of the connection.
            let named = try await f.masterStrings("SELECT coalesce(max(audit_id), 0)::text FROM platform.audit_log")[0]
            try await AuditActor.$current.withValue(.commandLine(nil)) {
                try await f.lifecycle.update(slug: "acme-inc", TenantChange(name: "Acme Two"))
            }
            #expect(AuditActor.current == nil)
            try await f.lifecycle.delete(slug: "acme-inc")
            let role = try await f.platform.master.query("SELECT session_user::text").scalar(String.self)
            let osUser = ProcessInfo.processInfo.environment["USER"] ?? ProcessInfo.processInfo.environment["LOGNAME"] ?? "unknown"
            #expect(try await f.masterStrings("""
                SELECT concat_ws(' ', action, actor, coalesce(admin_user_id::text, '-'))
                  FROM platform.audit_log WHERE audit_id > $1::bigint ORDER BY audit_id
                """, [named]) == ["tenant.update os:\(osUser) -", "tenant.delete \(role) -"])
        }
    }

    @Test("a new tenant's name follows the same rule as an update's")
    func createRefusesInvalidName() async throws {
        try await PlatformFixture.run { f in
            #expect(await platformErrorKind { try await f.provisioner.create(name: "A\u{0}", slug: "acme") } == .invalidName)
            let tenants = try await f.platform.directory.all()
            #expect(tenants.isEmpty)
            #expect(try await f.leftovers().isEmpty)
        }
    }
}
