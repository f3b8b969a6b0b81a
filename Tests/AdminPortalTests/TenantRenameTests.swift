@testable import AdminPortal
import Foundation
import HTTPTypes
import Permissions
import TenantPlatform
import Testing

/// Issue 15: "a tenant renamed while its users are signed in through the tenant API keeps
/// working under the new slug, and the old slug answers 404". Sessions and their cookies
/// belong to the tenant's id (`pgperm_session_<id>` at `/t/`); the old slug answers 404
/// `tenant_renamed` to the tenant's signed-in users and the uniform 401 to everyone else.
/// The client keeps cookies as a browser does (sent only where their `Path` matches).
@Suite("Tenant API: a renamed tenant and several tenants in one browser")
struct TenantRenameTests {
    @Test("a rename through the admin API keeps the user signed in under the new slug; the old slug answers 404 to that user")
    func renameKeepsTheSession() async throws {
        try await PortalFixture.run { fixture, client in
            let acme = try await fixture.createTenant("acme")
            let acmeID = try await fixture.platform.platform.directory.require(slug: "acme").id
            let user = fixture.newClient(like: client)
            let signIn = try await user.send(.post, "/t/acme/api/session",
                                             json: ["username": acme.adminEmail, "password": acme.adminPassword])
            #expect(signIn.status == .ok)
            let userID = try #require(signIn.json["user_id"] as? String)
            #expect(try await user.get("/t/acme/api/permissions").status == .ok)
            // Asked before the rename, the new slug is unknown (and remembered as such for a while).
            #expect(try await user.get("/t/acme-inc/api/session").errorCode == "not_signed_in")

            try await fixture.signInAdmin(client)
            let renamed = try await client.send(.patch, "/admin/api/tenants/acme", json: ["slug": "acme-inc"])
            #expect(renamed.status == .ok)
            #expect(renamed.json["slug"] as? String == "acme-inc")

            // The same cookie, unchanged, works under the new slug at once.
            #expect(user.cookies.keys.sorted() == ["pgperm_session_\(acmeID)"])
            let session = try await user.get("/t/acme-inc/api/session")
            #expect(session.status == .ok)
            #expect(session.json["slug"] as? String == "acme-inc")
            #expect(session.json["user_id"] as? String == userID)
            let codes = try #require(try await user.get("/t/acme-inc/api/permissions").json["perm_codes"] as? [String])
            #expect(codes.contains("users.create_user"))
            #expect(try await user.get("/t/acme-inc/api/permissions/users.create_user").json["granted"] as? Bool == true)
            let many = try await user.send(.post, "/t/acme-inc/api/permissions/check",
                                           json: ["perm_codes": ["users.create_user"], "require_all": true])
            #expect(many.json["granted"] as? Bool == true)

            // The old slug: 404 naming the new one, on every route, to this user.
            let old = [
                try await user.get("/t/acme/api/session"),
                try await user.get("/t/acme/api/permissions"),
                try await user.get("/t/acme/api/permissions/users.create_user"),
                try await user.send(.post, "/t/acme/api/permissions/check", json: ["perm_codes": ["users.create_user"]]),
                try await user.send(.post, "/t/acme/api/session", json: ["username": acme.adminEmail, "password": acme.adminPassword]),
                try await user.send(.delete, "/t/acme/api/session"),
            ]
            for reply in old {
                #expect(reply.status == .notFound)
                #expect(reply.errorCode == "tenant_renamed")
                #expect((reply.error["hint"] as? String)?.contains("/t/acme-inc/api/") == true)
                #expect(reply.setCookies.isEmpty)
            }
            #expect(try await user.get("/t/acme-inc/api/session").status == .ok, "the 404s ended nothing")

            // Everyone else gets at the old slug exactly what an unknown slug answers.
            let stranger = fixture.newClient(like: client)
            let forged = fixture.newClient(like: client)
            forged.setCookie("pgperm_session_\(acmeID)", "not-a-session")
            for other in [stranger, forged] {
                let atOld = try await other.get("/t/acme/api/permissions")
                let atNope = try await other.get("/t/nope/api/permissions")
                #expect(atOld.status == .unauthorized && atOld.body == atNope.body)
                let signInOld = try await other.send(.post, "/t/acme/api/session", json: ["username": "x", "password": "y"])
                let signInNope = try await other.send(.post, "/t/nope/api/session", json: ["username": "x", "password": "y"])
                #expect(signInOld.status == .unauthorized && signInOld.body == signInNope.body)
                #expect(try await other.send(.delete, "/t/acme/api/session").status == .noContent)
            }

            // Signing out under the new slug clears the cookie; then the old slug is uniform again.
            let signOut = try await user.send(.delete, "/t/acme-inc/api/session")
            #expect(signOut.status == .noContent)
            #expect(signOut.setCookie(named: "pgperm_session_\(acmeID)")?.attributes.contains("Max-Age=0") == true)
            #expect(user.cookies.isEmpty)
            #expect(try await user.get("/t/acme-inc/api/session").errorCode == "not_signed_in")
            #expect(try await user.get("/t/acme/api/session").errorCode == "not_signed_in")
        }
    }

    @Test("a slug taken by another tenant after a rename is that tenant's; the renamed tenant's user still gets the 404 there")
    func oldSlugTakenByAnother() async throws {
        try await PortalFixture.run { fixture, client in
            let acme = try await fixture.createTenant("acme")
            let user = fixture.newClient(like: client)
            try await user.send(.post, "/t/acme/api/session", json: ["username": acme.adminEmail, "password": acme.adminPassword])
            let token = try #require(user.cookies.values.first)
            try await fixture.platform.lifecycle.update(slug: "acme", .init(slug: "acme-inc"))
            let impostor = try await fixture.createTenant("acme")
            let impostorID = try await fixture.platform.platform.directory.require(slug: "acme").id

            // The old owner's user learns nothing about the new owner: the same 404 as when the slug was free.
            let atOld = try await user.get("/t/acme/api/permissions")
            #expect(atOld.status == .notFound && atOld.errorCode == "tenant_renamed")
            #expect(try await user.get("/t/acme-inc/api/permissions").status == .ok)
            // The renamed tenant's session is no session of the new owner, under any cookie name.
            let crafted = fixture.newClient(like: client)
            crafted.setCookie("pgperm_session_\(impostorID)", token)
            #expect(try await crafted.get("/t/acme/api/permissions").errorCode == "not_signed_in")

            // The new owner's users sign in at the slug, in the same browser, and both sessions work.
            let signIn = try await user.send(.post, "/t/acme/api/session",
                                             json: ["username": impostor.adminEmail, "password": impostor.adminPassword])
            #expect(signIn.status == .ok)
            #expect(try await user.get("/t/acme/api/session").json["slug"] as? String == "acme")
            #expect(try await user.get("/t/acme-inc/api/session").json["slug"] as? String == "acme-inc")
            // Signed out of the new owner, the browser holds its (cleared) cookie no more: the 404 again.
            try await user.send(.delete, "/t/acme/api/session")
            #expect(try await user.get("/t/acme/api/session").errorCode == "tenant_renamed")
        }
    }

    @Test("signed in to two tenants in one browser, each keeps its own session; signing out of one leaves the other")
    func twoTenantsInOneBrowser() async throws {
        try await PortalFixture.run { fixture, client in
            let acme = try await fixture.createTenant("acme")
            let beta = try await fixture.createTenant("beta")
            let acmeID = try await fixture.platform.platform.directory.require(slug: "acme").id
            let betaID = try await fixture.platform.platform.directory.require(slug: "beta").id
            let acmeUser = try #require(try await client.send(.post, "/t/acme/api/session",
                                                              json: ["username": acme.adminEmail, "password": acme.adminPassword])
                .json["user_id"] as? String)
            let betaUser = try #require(try await client.send(.post, "/t/beta/api/session",
                                                              json: ["username": beta.adminEmail, "password": beta.adminPassword])
                .json["user_id"] as? String)
            #expect(acmeUser != betaUser)
            #expect(client.cookies.keys.sorted() == ["pgperm_session_\(acmeID)", "pgperm_session_\(betaID)"].sorted())

            #expect(try await client.get("/t/acme/api/session").json["user_id"] as? String == acmeUser)
            #expect(try await client.get("/t/beta/api/session").json["user_id"] as? String == betaUser)
            #expect(try await client.get("/t/acme/api/permissions").status == .ok)
            #expect(try await client.get("/t/beta/api/permissions").status == .ok)
            // A slug no tenant has: the uniform answer, though the browser holds two sessions.
            #expect(try await client.get("/t/nope/api/permissions").errorCode == "not_signed_in")

            // Renaming one of them changes nothing for the other.
            try await fixture.platform.lifecycle.update(slug: "beta", .init(slug: "beta-two"))
            #expect(try await client.get("/t/beta-two/api/session").json["user_id"] as? String == betaUser)
            #expect(try await client.get("/t/acme/api/session").json["user_id"] as? String == acmeUser)
            let atOld = try await client.get("/t/beta/api/permissions")
            #expect(atOld.errorCode == "tenant_renamed" && (atOld.error["hint"] as? String)?.contains("/t/beta-two/") == true)

            let signOut = try await client.send(.delete, "/t/beta-two/api/session")
            #expect(signOut.setCookies.count == 1 && signOut.setCookie(named: "pgperm_session_\(betaID)") != nil)
            #expect(try await client.get("/t/beta-two/api/session").status == .unauthorized)
            #expect(try await client.get("/t/acme/api/session").json["user_id"] as? String == acmeUser)

            // Signing in again replaces the browser's session of that tenant rather than adding one.
            let store = SessionStore(master: fixture.platform.platform.master, idleTimeout: .seconds(3600), lifetime: .seconds(3600))
            let acmeAuthTenant = try #require(try await fixture.platform.platform.directory.require(slug: "acme").record.authTenantID)
            let subject = SessionSubject.tenantUser(tenantID: acmeID, authTenant: acmeAuthTenant, user: UserID(try #require(UUID(uuidString: acmeUser))))
            #expect(try await store.count(subject) == 1)
            try await client.send(.post, "/t/acme/api/session", json: ["username": acme.adminEmail, "password": acme.adminPassword])
            #expect(try await store.count(subject) == 1)
            #expect(try await client.get("/t/acme/api/session").status == .ok)
        }
    }
}
