import Foundation
import HTTPTypes
import Testing

@Suite("Admin portal: the Tenants tab's API")
struct AdminTenantTests {
    @Test("a superadmin creates, lists, shows, renames, suspends, resumes, tests and deletes a tenant")
    func lifecycle() async throws {
        try await PortalFixture.run { fixture, client in
            try await fixture.signInAdmin(client)

            let created = try await client.send(.post, "/admin/api/tenants", json: ["name": "Acme Corp", "slug": "acme"])
            #expect(created.status == .created)
            let tenant = try #require(created.json["tenant"] as? [String: Any])
            #expect(tenant["slug"] as? String == "acme")
            #expect(tenant["status"] as? String == "active")
            #expect(tenant["credentials_encrypted"] == nil && tenant["admin_password_encrypted"] == nil)

            #expect(try await client.get("/admin/api/tenants").list("tenants").map { $0["slug"] as? String } == ["acme"])
            #expect(try await client.get("/admin/api/tenants/acme").json["name"] as? String == "Acme Corp")

            let credentialsReply = try await client.get("/admin/api/tenants/acme/credentials")
            #expect(credentialsReply.headers[.cacheControl] == "no-store")
            let credentials = credentialsReply.json
            let expected = try await fixture.platform.lifecycle.credentials(slug: "acme")
            #expect(credentials["admin_password"] as? String == expected.adminPassword)
            #expect(credentials["conninfo"] as? String == expected.conninfo)

            let test = try await client.send(.post, "/admin/api/tenants/acme/test").json
            #expect(test["ok"] as? Bool == true)
            #expect(test["schema_version"] as? String != nil)

            let renamed = try await client.send(.patch, "/admin/api/tenants/acme", json: ["name": "Acme Inc"])
            #expect(renamed.json["name"] as? String == "Acme Inc")

            let suspended = try await client.send(.patch, "/admin/api/tenants/acme", json: ["status": "inactive"])
            #expect(suspended.json["status"] as? String == "inactive")
            // A suspended tenant's role may not log in: a clear 409, not a raw libpq message.
            let refused = try await client.send(.post, "/admin/api/tenants/acme/test")
            #expect(refused.status == .conflict)
            #expect(refused.errorCode == "tenant_not_active")
            #expect(!String(decoding: refused.body, as: UTF8.self).contains(".s.PGSQL"))
            #expect(try await client.send(.patch, "/admin/api/tenants/acme", json: ["status": "active"]).json["status"] as? String == "active")
            #expect(try await client.send(.post, "/admin/api/tenants/acme/test").json["ok"] as? Bool == true)

            let unconfirmed = try await client.send(.delete, "/admin/api/tenants/acme")
            #expect(unconfirmed.status == .badRequest)
            #expect(try await client.get("/admin/api/tenants/acme").status == .ok)
            #expect(try await client.send(.delete, "/admin/api/tenants/acme?confirm=acme").status == .noContent)
            #expect(try await client.get("/admin/api/tenants/acme").errorCode == "unknown_tenant")
            #expect(try await fixture.platform.leftovers().isEmpty)
            #expect(try await fixture.platform.auditActions().contains("tenant.delete"))
        }
    }

    @Test("bad input is refused with the platform's reason: invalid slug, taken slug, unknown status, unknown tenant")
    func badInput() async throws {
        try await PortalFixture.run { fixture, client in
            try await fixture.signInAdmin(client)
            let invalid = try await client.send(.post, "/admin/api/tenants", json: ["name": "X", "slug": "Not A Slug"])
            #expect(invalid.status == .badRequest)
            #expect(invalid.errorCode == "invalid_slug")
            #expect((invalid.json["error"] as? [String: Any])?["hint"] as? String != nil)

            _ = try await fixture.createTenant("acme")
            let taken = try await client.send(.post, "/admin/api/tenants", json: ["name": "Again", "slug": "acme"])
            #expect(taken.status == .conflict)
            #expect(taken.errorCode == "tenant_exists")

            let status = try await client.send(.patch, "/admin/api/tenants/acme", json: ["status": "failed"])
            #expect(status.status == .badRequest)
            #expect(try await client.get("/admin/api/tenants/acme").json["status"] as? String == "active")

            #expect(try await client.get("/admin/api/tenants/nope").status == .notFound)
            #expect(try await client.send(.patch, "/admin/api/tenants/nope", json: ["name": "Y"]).status == .notFound)
        }
    }

    @Test("a regular admin sees and manages only its granted tenants, and may neither create nor delete")
    func regularAdminScope() async throws {
        try await PortalFixture.run { fixture, client in
            _ = try await fixture.createTenant("acme")
            _ = try await fixture.createTenant("beta")
            _ = try await fixture.admins.create(email: "eu@example.com", password: PortalFixture.password, superadmin: false)
            _ = try await fixture.admins.grant(tenant: "acme", to: "eu@example.com")
            try await fixture.signInAdmin(client, email: "eu@example.com")

            #expect(try await client.get("/admin/api/tenants").list("tenants").map { $0["slug"] as? String } == ["acme"])
            #expect(try await client.get("/admin/api/tenants/acme").status == .ok)
            #expect(try await client.send(.patch, "/admin/api/tenants/acme", json: ["name": "Acme EU"]).status == .ok)
            // Another tenant does not exist as far as this admin can tell.
            #expect(try await client.get("/admin/api/tenants/beta").status == .notFound)
            #expect(try await client.get("/admin/api/tenants/beta/credentials").status == .notFound)
            #expect(try await client.send(.patch, "/admin/api/tenants/beta", json: ["status": "inactive"]).status == .notFound)
            #expect(try await client.send(.post, "/admin/api/tenants/beta/test").status == .notFound)
            #expect(try await client.send(.delete, "/admin/api/tenants/beta?confirm=beta").status == .notFound)

            #expect(try await client.send(.post, "/admin/api/tenants", json: ["name": "C", "slug": "gamma"]).status == .forbidden)
            #expect(try await client.send(.delete, "/admin/api/tenants/acme?confirm=acme").status == .forbidden)
            #expect(try await fixture.platform.platform.directory.find(slug: "acme") != nil)

            // Revoking the last grant ends the admin's sessions at once (a trigger in the master database).
            try await fixture.admins.revoke(tenant: "acme", from: "eu@example.com")
            #expect(try await client.get("/admin/api/tenants/acme").status == .unauthorized)
            #expect(try await client.get("/admin/api/tenants").status == .unauthorized)
        }
    }

    @Test("a changed slug closes the old slug's pool and sessions: a tenant given that slug next never reaches the old database")
    func slugChangeClosesOldPool() async throws {
        try await PortalFixture.run { fixture, client in
            let first = try await fixture.createTenant("acme")
            _ = try await fixture.createTenant("beta")
            let user = fixture.newClient(like: client)
            #expect(try await user.send(.post, "/t/acme/api/session",
                                        json: ["username": first.adminEmail, "password": first.adminPassword]).status == .ok)
            try await fixture.signInAdmin(client)
            #expect(try await client.send(.patch, "/admin/api/tenants/acme", json: ["slug": "acme-old"]).json["slug"] as? String == "acme-old")
            #expect(try await client.send(.patch, "/admin/api/tenants/beta", json: ["slug": "acme"]).json["slug"] as? String == "acme")

            // The signed-in user of the renamed tenant is told where it went (TenantSessions), never let in.
            let signedIn = try await user.get("/t/acme/api/permissions")
            #expect(signedIn.status == .notFound && signedIn.errorCode == "tenant_renamed")
            #expect((signedIn.error["hint"] as? String)?.contains("/t/acme-old/") == true)
            let oldCredentials = try await fixture.newClient(like: client).send(
                .post, "/t/acme/api/session", json: ["username": first.adminEmail, "password": first.adminPassword])
            #expect(oldCredentials.errorCode == "wrong_credentials", "/t/acme is beta's database now")
            #expect(try await user.send(.post, "/t/acme-old/api/session",
                                        json: ["username": first.adminEmail, "password": first.adminPassword]).status == .ok)
        }
    }
}
