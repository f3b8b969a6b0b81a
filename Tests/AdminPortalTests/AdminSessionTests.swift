import Foundation
import HTTPTypes
import TenantPlatform
import Testing

@Suite("Admin portal: sign-in and sessions")
struct AdminSessionTests {
    @Test("signing in sets a strict HttpOnly cookie; the session answers who is signed in; signing out ends it")
    func signInAndOut() async throws {
        try await PortalFixture.run { fixture, client in
            #expect(try await client.get("/admin/api/session").errorCode == "not_signed_in")

            let signIn = try await fixture.signInAdmin(client)
            #expect(signIn.status == .ok)
            #expect(signIn.json["email"] as? String == PortalFixture.superadminEmail)
            #expect(signIn.json["role"] as? String == "superadmin")
            let cookie = try #require(signIn.setCookies.first)
            #expect(cookie.hasPrefix("pgperm_admin="))
            #expect(cookie.contains("HttpOnly"))
            #expect(cookie.contains("SameSite=Strict"))
            #expect(cookie.contains("Path=/admin"))
            #expect(!cookie.contains("Secure"))

            let me = try await client.get("/admin/api/session")
            #expect(me.status == .ok)
            #expect(me.json["email"] as? String == PortalFixture.superadminEmail)

            let token = try #require(client.cookies["pgperm_admin"])
            #expect(try await client.send(.delete, "/admin/api/session").status == .noContent)
            #expect(client.cookies["pgperm_admin"] == nil)
            client.setCookie("pgperm_admin", token)  // replaying the old token
            #expect(try await client.get("/admin/api/session").status == .unauthorized)
        }
    }

    @Test("sign-in and sign-out are audited as the admin's own acts, with the client's address; a failure is not")
    func signInAndOutAreAudited() async throws {
        try await PortalFixture.run { fixture, client in
            #expect(try await fixture.signInAdmin(client, password: "wrong password").status == .unauthorized)
            try await fixture.signInAdmin(client)
            #expect(try await client.send(.delete, "/admin/api/session").status == .noContent)
            #expect(try await client.send(.delete, "/admin/api/session").status == .noContent, "no session: nothing to record")
            let mine = try await fixture.platform.platform.auditLog(AuditQuery(action: "admin_user.")).filter { $0.action.hasPrefix("admin_user.sign_") }
            #expect(mine.map(\.action) == ["admin_user.sign_out", "admin_user.sign_in"])
            #expect(mine.allSatisfy { $0.actor == PortalFixture.superadminEmail && $0.details["client"]?.isEmpty == false })
        }
    }

    @Test("a wrong password, an unknown email and a forged token are all 401")
    func wrongCredentials() async throws {
        try await PortalFixture.run { fixture, client in
            let wrong = try await fixture.signInAdmin(client, password: "not the password")
            #expect(wrong.status == .unauthorized)
            #expect(wrong.errorCode == "wrong_credentials")
            #expect(wrong.setCookies.isEmpty)
            #expect(try await fixture.signInAdmin(client, email: "nobody@example.com").errorCode == "wrong_credentials")

            client.setCookie("pgperm_admin", "forged")
            #expect(try await client.get("/admin/api/tenants").errorCode == "not_signed_in")
        }
    }

    @Test("after 10 failed sign-ins an account is refused for a while, even with the right password; others are not")
    func throttled() async throws {
        try await PortalFixture.run { fixture, client in
            for _ in 1...10 {
                #expect(try await fixture.signInAdmin(client, password: "guess").errorCode == "wrong_credentials")
            }
            let refused = try await fixture.signInAdmin(client, email: "  ROOT@example.com")
            #expect(refused.status == .tooManyRequests)
            #expect(refused.errorCode == "too_many_attempts")
            #expect(refused.setCookies.isEmpty)
            _ = try await fixture.admins.create(email: "other@example.com", password: PortalFixture.password, superadmin: false)
            #expect(try await fixture.signInAdmin(client, email: "other@example.com").status == .ok)
        }
    }

    @Test("a session ends after the idle timeout; signing out of an ended session still clears the cookie")
    func idleTimeout() async throws {
        try await PortalFixture.run(.init(sessionIdleTimeout: .seconds(3))) { fixture, client in
            try await fixture.signInAdmin(client)
            #expect(try await client.get("/admin/api/session").status == .ok)
            try await Task.sleep(for: .milliseconds(3500))
            #expect(try await client.get("/admin/api/session").errorCode == "not_signed_in")
            let signOut = try await client.send(.delete, "/admin/api/session")
            #expect(signOut.status == .noContent)
            #expect(signOut.setCookies.first?.contains("Max-Age=0") == true)
        }
    }

    @Test("a body without the fields is 400 naming the missing one, not a 500")
    func malformedSignIn() async throws {
        try await PortalFixture.run { _, client in
            let reply = try await client.send(.post, "/admin/api/session", json: ["email": "root@example.com"])
            #expect(reply.status == .badRequest)
            #expect(reply.errorCode == "missing_field")
            #expect(reply.errorMessage?.contains("\"password\"") == true)
        }
    }

    @Test("deactivating an admin user ends its open sessions at once")
    func deactivationCountsAtOnce() async throws {
        try await PortalFixture.run { fixture, client in
            // Another superadmin first: the last active one cannot be deactivated.
            _ = try await fixture.admins.create(email: "two@example.com", password: PortalFixture.password, superadmin: true)
            try await fixture.signInAdmin(client)
            #expect(try await client.get("/admin/api/session").status == .ok)
            try await fixture.admins.setActive(PortalFixture.superadminEmail, false)
            #expect(try await client.get("/admin/api/session").status == .unauthorized)
            #expect(try await fixture.signInAdmin(client).status == .unauthorized)
        }
    }

    @Test("a state-changing request from another site's page is refused; the same origin passes")
    func crossSiteRequestsRefused() async throws {
        try await PortalFixture.run { fixture, client in
            try await fixture.signInAdmin(client)
            let foreign = try await client.send(.delete, "/admin/api/session",
                                                headers: [.origin: "https://evil.example"])
            #expect(foreign.status == .forbidden)
            #expect(try await client.get("/admin/api/session").status == .ok)  // still signed in

            let same = try await client.send(.delete, "/admin/api/session",
                                             headers: [.origin: "http://localhost"])
            #expect(same.status == .noContent)

            // Signing a victim's browser in to the attacker's account is refused too.
            let login = try await client.send(.post, "/admin/api/session", json: ["email": PortalFixture.superadminEmail, "password": PortalFixture.password],
                                              headers: [.origin: "https://evil.example"])
            #expect(login.status == .forbidden)
            #expect(login.setCookies.isEmpty)
        }
    }

    @Test("behind a proxy, the configured public origins are the ones allowed")
    func publicOrigins() async throws {
        try await PortalFixture.run(.init(publicOrigins: ["https://admin.example.com"])) { fixture, client in
            let proxied = try await client.send(.post, "/admin/api/session", json: ["email": PortalFixture.superadminEmail, "password": PortalFixture.password],
                                                headers: [.origin: "https://admin.example.com"])
            #expect(proxied.status == .ok)
            let direct = try await client.send(.delete, "/admin/api/session", headers: [.origin: "http://localhost"])
            #expect(direct.status == .forbidden)
        }
    }
}
