import Foundation
import HTTPTypes
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

    @Test("a wrong password, an unknown email and a forged token are all 401")
    func wrongCredentials() async throws {
        try await PortalFixture.run { fixture, client in
            let wrong = try await fixture.signInAdmin(client, password: "not the password")
            #expect(wrong.status == .unauthorized)
            #expect(wrong.errorCode == "wrong_credentials")
            #expect(wrong.setCookies.isEmpty)
            #expect(try await fixture.signInAdmin(client, email: "nobody@example.com").status == .unauthorized)

            client.setCookie("pgperm_admin", "forged")
            #expect(try await client.get("/admin/api/tenants").errorCode == "not_signed_in")
        }
    }

    @Test("a body without the fields is 400 with a message, not a 500")
    func malformedSignIn() async throws {
        try await PortalFixture.run { _, client in
            let reply = try await client.send(.post, "/admin/api/session", json: ["email": "root@example.com"])
            #expect(reply.status == .badRequest)
            #expect(reply.errorCode == "bad_request")
        }
    }

    @Test("deactivating an admin user ends its open sessions at once")
    func deactivationCountsAtOnce() async throws {
        try await PortalFixture.run { fixture, client in
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
        }
    }
}
