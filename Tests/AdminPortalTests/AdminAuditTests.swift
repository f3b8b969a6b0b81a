import Foundation
import HTTPTypes
import PlatformTestSupport
import PQ
import TenantPlatform
import Testing

/// Issue 15: "every row of `platform.audit_log` written by the portal names the admin".
/// Every master change the admin API makes runs as the signed-in admin's ``AuditActor``
/// (``AdminAuthenticator``), so its audit row carries the admin's id and email. The portal
/// has no routes for admin users or their grants (those are `pgperm admin ...`): the grant
/// below is made as the CLI makes it, and its row names the operator instead.
@Suite("Audit: platform audit rows written through the portal name the admin")
struct AdminAuditTests {
    @Test("create, rename, credentials, test, suspend, resume, delete: each row names the superadmin; a regular admin's rows name it")
    func everyRowNamesTheAdmin() async throws {
        try await PortalFixture.run { fixture, client in
            let start = try await lastAuditID(fixture)
            let superadmin = try #require(try await fixture.signInAdmin(client).json["id"] as? String)

            #expect(try await client.send(.post, "/admin/api/tenants", json: ["name": "Acme", "slug": "acme"]).status == .created)
            #expect(try await client.send(.patch, "/admin/api/tenants/acme", json: ["name": "Acme Inc", "slug": "acme-inc"]).status == .ok)
            #expect(try await client.get("/admin/api/tenants/acme-inc/credentials").status == .ok)
            #expect(try await client.send(.post, "/admin/api/tenants/acme-inc/test").json["ok"] as? Bool == true)
            #expect(try await client.send(.patch, "/admin/api/tenants/acme-inc", json: ["status": "inactive"]).status == .ok)
            #expect(try await client.send(.patch, "/admin/api/tenants/acme-inc", json: ["status": "active"]).status == .ok)
            #expect(try await client.send(.post, "/admin/api/tenants", json: ["name": "Beta", "slug": "beta"]).status == .created)
            // The tenant API writes nothing to the platform audit log.
            let beta = try await client.get("/admin/api/tenants/beta/credentials").json
            let user = fixture.newClient(like: client)
            #expect(try await user.send(.post, "/t/beta/api/session",
                                        json: ["username": try #require(beta["admin_email"] as? String),
                                               "password": try #require(beta["admin_password"] as? String)]).status == .ok)
            #expect(try await user.get("/t/beta/api/permissions").status == .ok)
            #expect(try await client.send(.delete, "/admin/api/tenants/acme-inc?confirm=acme-inc").status == .noContent)

            let bySuperadmin = try await auditRows(fixture, after: start)
            #expect(bySuperadmin.map(\.action) == [
                "admin_user.sign_in", "tenant.create", "tenant.update", "tenant.credentials_shown", "tenant.suspend", "tenant.resume",
                "tenant.create", "tenant.credentials_shown", "tenant.delete",
            ])
            for row in bySuperadmin {
                #expect(row.actor == PortalFixture.superadminEmail, "\(row.action)")
                #expect(row.adminUserID == superadmin, "\(row.action)")
            }
            #expect(bySuperadmin.map(\.slug) == [nil, "acme", "acme-inc", "acme-inc", "acme-inc", "acme-inc", "beta", "beta", "acme-inc"])

            // A regular admin, granted beta from the command line, then acting through the portal.
            let regular = try await fixture.admins.create(email: "eu@example.com", password: PortalFixture.password, superadmin: false)
            try await AuditActor.$current.withValue(.commandLine("ops")) {
                _ = try await fixture.admins.grant(tenant: "beta", to: "eu@example.com")
            }
            let granted = try await lastAuditID(fixture)
            let other = fixture.newClient(like: client)
            #expect(try await fixture.signInAdmin(other, email: "eu@example.com").status == .ok)
            #expect(try await other.send(.patch, "/admin/api/tenants/beta", json: ["name": "Beta Two"]).status == .ok)
            #expect(try await other.get("/admin/api/tenants/beta/credentials").status == .ok)
            #expect(try await other.send(.patch, "/admin/api/tenants/beta", json: ["status": "inactive"]).status == .ok)
            #expect(try await other.send(.delete, "/admin/api/tenants/beta?confirm=beta").status == .forbidden, "writes nothing")

            let byRegular = try await auditRows(fixture, after: granted)
            #expect(byRegular.map(\.action) == ["admin_user.sign_in", "tenant.update", "tenant.credentials_shown", "tenant.suspend"])
            for row in byRegular {
                #expect(row.actor == "eu@example.com" && row.adminUserID == regular.user.id.description, "\(row.action)")
            }
            // Outside the portal: the operator named at the command line, else the database role.
            let outside = try await auditRows(fixture, after: try #require(bySuperadmin.last?.id)).filter { $0.id <= granted }
            let role = try await fixture.platform.platform.master.query("SELECT session_user::text").scalar(String.self)
            #expect(outside.map(\.action) == ["admin_user.create", "admin_user.grant"])
            #expect(outside.map(\.actor) == [role, "ops"])
            #expect(outside.allSatisfy { $0.adminUserID == nil })
        }
    }

    struct Row {
        let id: Int
        let action: String
        let actor: String
        let adminUserID: String?
        let slug: String?
    }

    private func lastAuditID(_ fixture: PortalFixture) async throws -> Int {
        Int(try #require(try await fixture.platform.masterStrings("SELECT coalesce(max(audit_id), 0)::text FROM platform.audit_log").first))!
    }

    /// The audit rows after `id`, oldest first.
    private func auditRows(_ fixture: PortalFixture, after id: Int) async throws -> [Row] {
        try await fixture.platform.masterStrings("""
            SELECT json_build_array(audit_id, action, actor, admin_user_id, tenant_slug)::text
              FROM platform.audit_log WHERE audit_id > $1 ORDER BY audit_id
            """, [id]).map { text in
            let fields = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [Any])
            return Row(id: try #require(fields[0] as? Int), action: try #require(fields[1] as? String),
                       actor: try #require(fields[2] as? String), adminUserID: fields[3] as? String, slug: fields[4] as? String)
        }
    }
}
