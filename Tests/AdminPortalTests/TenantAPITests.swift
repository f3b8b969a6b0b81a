import Foundation
import HTTPTypes
import Permissions
import TenantPlatform
import Testing

@Suite("Tenant API: /t/{slug}/api")
struct TenantAPITests {
    @Test("a tenant's user signs in and asks about its own permissions; an owner holds every code")
    func signInAndCheck() async throws {
        try await PortalFixture.run { fixture, client in
            let acme = try await fixture.createTenant("acme")
            let signIn = try await client.send(.post, "/t/acme/api/session",
                                               json: ["username": acme.adminEmail, "password": acme.adminPassword])
            #expect(signIn.status == .ok)
            #expect(signIn.json["slug"] as? String == "acme")
            let userID = try #require(signIn.json["user_id"] as? String)
            #expect(userID == userID.lowercased(), "ids are written as PostgreSQL writes them")
            // One cookie per tenant, named after its id, for every slug it may have: Path=/t/.
            let tenantID = try await fixture.platform.platform.directory.require(slug: "acme").id
            #expect(signIn.setCookies.count == 1)
            let cookie = try #require(signIn.setCookie(named: "pgperm_session_\(tenantID)"))
            #expect(cookie.attributes == ["Path=/t/", "HttpOnly", "SameSite=Strict"])

            #expect(try await client.get("/t/acme/api/session").json["user_id"] as? String == signIn.json["user_id"] as? String)
            let codes = try #require(try await client.get("/t/acme/api/permissions").json["perm_codes"] as? [String])
            #expect(codes.contains("users.create_user"))

            let check = try await client.get("/t/acme/api/permissions/users.create_user")
            #expect(check.status == .ok)
            #expect(check.json["granted"] as? Bool == true)
            let many = try await client.send(.post, "/t/acme/api/permissions/check",
                                             json: ["perm_codes": ["users.create_user", "users.deactivate_user"], "require_all": true])
            #expect(many.json["granted"] as? Bool == true)

            let signOut = try await client.send(.delete, "/t/acme/api/session")
            #expect(signOut.status == .noContent)
            let cleared = try #require(signOut.setCookie(named: "pgperm_session_\(tenantID)"))
            #expect(cleared.value.isEmpty && cleared.attributes.isSuperset(of: ["Max-Age=0", "Path=/t/"]))
            #expect(try await client.get("/t/acme/api/permissions").errorCode == "not_signed_in")
        }
    }

    @Test("a member without grants is denied; codes are checked against the catalogue by SQLSTATE")
    func deniedAndBadCodes() async throws {
        try await PortalFixture.run { fixture, client in
            _ = try await fixture.createTenant("acme")
            try await addMember("acme", username: "bob", fixture: fixture)
            #expect(try await client.send(.post, "/t/acme/api/session", json: ["username": "bob", "password": PortalFixture.password]).status == .ok)

            #expect(try await client.get("/t/acme/api/permissions").json["perm_codes"] as? [String] == [])
            #expect(try await client.get("/t/acme/api/permissions/users.create_user").json["granted"] as? Bool == false)

            let unknown = try await client.get("/t/acme/api/permissions/no.such_code")
            #expect(unknown.status == .notFound)
            #expect(unknown.errorCode == "QN003")
            let malformed = try await client.get("/t/acme/api/permissions/Not-A-Code")
            #expect(malformed.status == .badRequest)
            #expect(malformed.errorCode == "QI002")
            let empty = try await client.send(.post, "/t/acme/api/permissions/check", json: ["perm_codes": [String]()])
            #expect(empty.errorCode == "QI001")
        }
    }

    @Test("one tenant's session and users mean nothing in another tenant")
    func crossTenant() async throws {
        try await PortalFixture.run { fixture, client in
            let acme = try await fixture.createTenant("acme")
            _ = try await fixture.createTenant("beta")
            let acmeID = try await fixture.platform.platform.directory.require(slug: "acme").id
            let betaID = try await fixture.platform.platform.directory.require(slug: "beta").id
            try await client.send(.post, "/t/acme/api/session", json: ["username": acme.adminEmail, "password": acme.adminPassword])
            let token = try #require(client.cookies["pgperm_session_\(acmeID)"])

            // The browser sends acme's cookie to /t/beta/ too; it is not beta's cookie.
            #expect(try await client.get("/t/beta/api/permissions").errorCode == "not_signed_in")
            #expect(try await client.get("/t/beta/api/session").status == .unauthorized)
            // A crafted request with acme's token under beta's name is refused: the session says whose it is.
            let crafted = fixture.newClient(like: client)
            crafted.setCookie("pgperm_session_\(betaID)", token)
            #expect(try await crafted.get("/t/beta/api/permissions").errorCode == "not_signed_in")
            // acme's admin does not exist in beta's database.
            let elsewhere = try await fixture.newClient(like: client)
                .send(.post, "/t/beta/api/session", json: ["username": acme.adminEmail, "password": acme.adminPassword])
            #expect(elsewhere.errorCode == "wrong_credentials")
            // An admin-portal session is no tenant session, and the reverse.
            let admin = fixture.newClient(like: client)
            try await fixture.signInAdmin(admin)
            admin.setCookie("pgperm_session_\(acmeID)", admin.cookies["pgperm_admin"])
            #expect(try await admin.get("/t/acme/api/permissions").status == .unauthorized)
            let tenantUser = fixture.newClient(like: client)
            tenantUser.setCookie("pgperm_admin", token)
            #expect(try await tenantUser.get("/admin/api/tenants").status == .unauthorized)
        }
    }

    @Test("wrong password, unknown tenant, suspended tenant, and a user deactivated mid-session")
    func refusals() async throws {
        try await PortalFixture.run { fixture, client in
            let acme = try await fixture.createTenant("acme")
            let wrong = try await client.send(.post, "/t/acme/api/session", json: ["username": acme.adminEmail, "password": "wrong password"])
            #expect(wrong.status == .unauthorized)
            // An unknown tenant answers like a wrong password: slugs cannot be enumerated.
            #expect(try await client.send(.post, "/t/nope/api/session", json: ["username": "a", "password": "b"]).errorCode == "wrong_credentials")

            try await addMember("acme", username: "bob", fixture: fixture)
            try await client.send(.post, "/t/acme/api/session", json: ["username": "bob", "password": PortalFixture.password])
            #expect(try await client.get("/t/acme/api/permissions").status == .ok)
            try await fixture.platform.withTenantConnection("acme") { connection in
                let auth = AuthClient(connection)
                let bob = try #require(try await auth.verifyUserPassword(username: "bob", password: PortalFixture.password))
                try await auth.deactivateUser(bob)
            }
            #expect(try await client.get("/t/acme/api/permissions").status == .unauthorized)

            let admin = fixture.newClient(like: client)
            try await admin.send(.post, "/t/acme/api/session", json: ["username": acme.adminEmail, "password": acme.adminPassword])
            #expect(try await admin.get("/t/acme/api/permissions").status == .ok)
            try await fixture.platform.lifecycle.suspend(slug: "acme")
            #expect(try await admin.get("/t/acme/api/permissions").status == .unauthorized, "a signed-in session ends with the tenant")
            let suspended = try await client.send(.post, "/t/acme/api/session", json: ["username": acme.adminEmail, "password": acme.adminPassword])
            #expect(suspended.status == .unauthorized)
            #expect(suspended.errorCode == "wrong_credentials")
        }
    }

    @Test("the check routes answer from the tenant's PermissionCache; a grant made through the tenant API is seen by them")
    func checksThroughTheCache() async throws {
        try await PortalFixture.run { fixture, client in
            let acme = try await fixture.createTenant("acme")
            try await addMember("acme", username: "bob", fixture: fixture)
            let bob = try #require(try await client.send(.post, "/t/acme/api/session",
                                                         json: ["username": "bob", "password": PortalFixture.password])
                .json["user_id"] as? String)
            let admin = fixture.newClient(like: client)
            try await admin.send(.post, "/t/acme/api/session", json: ["username": acme.adminEmail, "password": acme.adminPassword])

            #expect(try await client.get("/t/acme/api/permissions/users.view").json["granted"] as? Bool == false)
            let target = try await fixture.platform.platform.directory.require(slug: "acme").connectionTarget
            let cache = try await fixture.platform.platform.connections.permissionCache(for: target)
            try await cache.barrier()  // listening: answers are kept from now on
            for _ in 0..<3 {
                #expect(try await client.get("/t/acme/api/permissions/users.view").json["granted"] as? Bool == false)
            }
            #expect(cache.statistics.hits >= 2, "\(cache.statistics)")

            let granted = try await admin.send(.post, "/t/acme/api/assignments", json: ["user_id": bob, "perm_code": "users.view"])
            #expect(granted.status == .created)
            #expect(try await client.get("/t/acme/api/permissions/users.view").json["granted"] as? Bool == true)
            let many = try await client.send(.post, "/t/acme/api/permissions/check",
                                             json: ["perm_codes": ["users.view", "users.create_user"], "require_all": true])
            #expect(many.json["granted"] as? Bool == false)
            #expect(try await client.send(.post, "/t/acme/api/permissions/check", json: ["perm_codes": ["users.view"]])
                .json["granted"] as? Bool == true)
        }
    }

    /// A user with a password and a plain membership (no grants) in the tenant's database.
    private func addMember(_ slug: String, username: String, fixture: PortalFixture) async throws {
        try await fixture.platform.withTenantConnection(slug) { connection in
            let auth = AuthClient(connection)
            let tenant = try await connection.query("SELECT tenant_id FROM auth.tenant WHERE code = $1", [slug]).scalar(TenantID.self)
            let user = try await auth.createUser(username: username)
            try await auth.setUserPassword(user, password: PortalFixture.password)
            try await auth.addUserToTenant(tenant, user: user)
        }
    }
}
