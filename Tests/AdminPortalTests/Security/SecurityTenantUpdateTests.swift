import Foundation
import HTTPTypes
import Testing

/// Issue 13, item 5: `PATCH /admin/api/tenants/alpha {"slug":"alpha9","name":"A\u0000"}`
/// answered 500 with the slug changed, no audit row, and the old slug's pool and sessions
/// still open. Each test performs the attack again.
@Suite("Security: a tenant update through the admin API commits with its audit row or not at all")
struct SecurityTenantUpdateTests {
    @Test("a new slug with a NUL byte in the name is a 400 that changes nothing: slug, name, audit log, sessions")
    func nulByteInName() async throws {
        try await PortalFixture.run { fixture, client in
            let alpha = try await fixture.createTenant("alpha")
            let user = fixture.newClient(like: client)
            #expect(try await user.send(.post, "/t/alpha/api/session",
                                        json: ["username": alpha.adminEmail, "password": alpha.adminPassword]).status == .ok)
            try await fixture.signInAdmin(client)
            let audit = try await fixture.platform.auditActions()

            let reply = try await client.send(.patch, "/admin/api/tenants/alpha", json: ["slug": "alpha9", "name": "A\u{0}"])
            #expect(reply.status == .badRequest)
            #expect(reply.errorCode == "invalid_field", "NUL is refused when the body is read")

            let tenant = try await client.get("/admin/api/tenants/alpha").json
            #expect(tenant["slug"] as? String == "alpha")
            #expect(tenant["name"] as? String == "Alpha")
            #expect(try await client.get("/admin/api/tenants/alpha9").status == .notFound)
            #expect(try await fixture.platform.auditActions() == audit)
            #expect(try await user.get("/t/alpha/api/permissions").status == .ok, "alpha's users keep working at /t/alpha")
        }
    }

    @Test("when the audit row cannot be written, the slug change is rolled back and the old slug keeps serving")
    func failedAuditKeepsTheSlug() async throws {
        try await PortalFixture.run { fixture, client in
            let alpha = try await fixture.createTenant("alpha")
            try await fixture.signInAdmin(client)
            let audit = try await fixture.platform.auditActions()
            try await fixture.platform.refuseAuditRows()

            let reply = try await client.send(.patch, "/admin/api/tenants/alpha", json: ["slug": "alpha9", "name": "Alpha Nine"])
            #expect(reply.status == .internalServerError, "a server fault, not the client's")
            #expect(try await fixture.platform.masterStrings("SELECT slug || ' ' || name FROM platform.tenant") == ["alpha Alpha"])
            #expect(try await fixture.platform.auditActions() == audit)

            // The slug was never freed: another tenant cannot take it and reach alpha's users.
            try await fixture.platform.allowAuditRows()
            let taken = try await client.send(.post, "/admin/api/tenants", json: ["name": "Impostor", "slug": "alpha"])
            #expect(taken.status == .conflict)
            let user = fixture.newClient(like: client)
            #expect(try await user.send(.post, "/t/alpha/api/session",
                                        json: ["username": alpha.adminEmail, "password": alpha.adminPassword]).status == .ok)
        }
    }
}
