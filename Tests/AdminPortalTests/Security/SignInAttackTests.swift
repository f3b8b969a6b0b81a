@testable import AdminPortal
import Foundation
import Permissions
import PQ
import Testing
import TenantPlatform

/// Attacks on sign-in and sessions (issue 13, items 1, 3, 4, 6, 7, 10), each performed
/// against the portal as an attacker would, failing if it works again.
@Suite("Security: sign-in and sessions")
struct SignInAttackTests {
    static let lockedOutEmail = PortalFixture.superadminEmail

    /// Uses up the superadmin's attempts from this client.
    static func lockOut(_ fixture: PortalFixture, _ client: PortalClient) async throws {
        for _ in 1...10 {
            #expect(try await fixture.signInAdmin(client, password: "wrong guess").errorCode == "wrong_credentials")
        }
        #expect(try await fixture.signInAdmin(client).status == .tooManyRequests)
    }

    @Test("a NUL byte in the email does not get around the lockout; NUL in a password or username is a 400")
    func nulByteBypass() async throws {
        try await PortalFixture.run { fixture, client in
            try await Self.lockOut(fixture, client)
            let bypass = try await fixture.signInAdmin(client, email: "\(Self.lockedOutEmail)\u{0}x")
            #expect(bypass.status == .badRequest, "\(bypass.status)")
            #expect(bypass.errorCode == "invalid_field")  // refused when the body is read, before the throttle
            #expect(bypass.setCookies.isEmpty)

            let acme = try await fixture.createTenant("acme")
            let cutPassword = try await client.send(.post, "/t/acme/api/session",
                                                    json: ["username": acme.adminEmail, "password": "\(acme.adminPassword)\u{0}junk"])
            #expect(cutPassword.status == .badRequest)
            let cutUsername = try await client.send(.post, "/t/acme/api/session",
                                                    json: ["username": "\(acme.adminEmail)\u{0}", "password": acme.adminPassword])
            #expect(cutUsername.status == .badRequest)
            #expect(cutUsername.setCookies.isEmpty)
        }
    }

    @Test("40 parallel wrong passwords: at most 10 are checked, the rest are refused before the hash")
    func parallelGuesses() async throws {
        try await PortalFixture.run { fixture, client in
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 1...40 {
                    let guesser = fixture.newClient(like: client)
                    group.addTask { try await fixture.signInAdmin(guesser, password: "parallel guess").status.code }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 401 }.count <= 10, "\(statuses)")
            #expect(statuses.filter { $0 == 429 }.count >= 30, "\(statuses)")
            #expect(try await fixture.signInAdmin(client).status == .tooManyRequests)
        }
    }

    @Test("oversized sign-in fields are refused before anything is stored")
    func oversizedFields() async throws {
        try await PortalFixture.run { fixture, client in
            // A 2 MB email is a body over the limit; 60,000 characters fit in a body but not in an email.
            let huge = String(repeating: "a", count: 2_000_000) + "@example.com"
            #expect(try await fixture.signInAdmin(client, email: huge).status == .contentTooLarge)
            for length in [60_000, 250] {
                let email = String(repeating: "b", count: length) + "@example.com"
                #expect(try await fixture.signInAdmin(client, email: email).status == .badRequest, "\(length)")
            }
            #expect(try await fixture.signInAdmin(client, password: String(repeating: "p", count: 5000)).status == .badRequest)
            _ = try await fixture.createTenant("acme")
            let longUsername = try await client.send(.post, "/t/acme/api/session",
                                                     json: ["username": String(repeating: "u", count: 300), "password": "x"])
            #expect(longUsername.status == .badRequest)
            let stored = try await fixture.platform.platform.master.query("SELECT count(*) FROM platform.sign_in_attempt").scalar(Int.self)
            #expect(stored == 0)
        }
    }

    @Test("the lockout is per account and client address, with a backstop for the account across all clients")
    func lockoutPerClient() async throws {
        try await PortalFixture.run { fixture, _ in
            let throttle = SignInThrottle(master: fixture.platform.platform.master, perClient: 3, perAccount: 5)
            for _ in 1...3 { try await throttle.reserve(kind: "admin", account: "victim@example.com", client: "10.0.0.1") }
            await #expect(throws: APIError.self) {
                try await throttle.reserve(kind: "admin", account: "VICTIM@example.com", client: "10.0.0.1")
            }
            // The victim, elsewhere, is not locked out by the attacker's failures.
            try await throttle.reserve(kind: "admin", account: "victim@example.com", client: "192.0.2.7")
            try await throttle.succeeded(kind: "admin", account: "victim@example.com", client: "192.0.2.7")
            // A guesser spread over addresses meets the backstop: 5 in all.
            for client in ["10.0.0.2", "10.0.0.3"] {
                try await throttle.reserve(kind: "admin", account: "victim@example.com", client: client)
            }
            await #expect(throws: APIError.self) {
                try await throttle.reserve(kind: "admin", account: "victim@example.com", client: "10.0.0.4")
            }
            // Another account is untouched.
            try await throttle.reserve(kind: "admin", account: "other@example.com", client: "10.0.0.1")
        }
    }

    @Test("a deactivated then re-activated admin's old session stays ended; so does one after a new password")
    func adminSessionsEndForGood() async throws {
        try await PortalFixture.run { fixture, client in
            _ = try await fixture.admins.create(email: "eu@example.com", password: PortalFixture.password, superadmin: true)
            try await fixture.signInAdmin(client, email: "eu@example.com")
            #expect(try await client.get("/admin/api/session").status == .ok)
            try await fixture.admins.setActive("eu@example.com", false)
            try await fixture.admins.setActive("eu@example.com", true)
            #expect(try await client.get("/admin/api/session").status == .unauthorized)

            try await fixture.signInAdmin(client, email: "eu@example.com")
            try await fixture.platform.platform.master.query(
                "UPDATE platform.admin_user SET password_hash = password_hash || '' WHERE email = 'eu@example.com'")
            #expect(try await client.get("/admin/api/session").status == .ok, "an unchanged hash keeps the session")
            try await fixture.platform.platform.master.query(
                "UPDATE platform.admin_user SET password_hash = platform.hash_password('another password 1') WHERE email = 'eu@example.com'")
            #expect(try await client.get("/admin/api/session").status == .unauthorized)
        }
    }

    @Test("a tenant session from before a suspension is not valid after the resume")
    func tenantSessionsEndWithSuspension() async throws {
        try await PortalFixture.run { fixture, client in
            let acme = try await fixture.createTenant("acme")
            try await client.send(.post, "/t/acme/api/session", json: ["username": acme.adminEmail, "password": acme.adminPassword])
            #expect(try await client.get("/t/acme/api/permissions").status == .ok)
            try await fixture.platform.lifecycle.suspend(slug: "acme")
            try await fixture.platform.lifecycle.resume(slug: "acme")
            #expect(try await client.get("/t/acme/api/permissions").status == .unauthorized)
        }
    }

    @Test("an admin holds at most 10 sessions: the 11th sign-in ends the oldest")
    func sessionsPerUserAreCapped() async throws {
        try await PortalFixture.run { fixture, client in
            let first = fixture.newClient(like: client)
            try await fixture.signInAdmin(first)
            for _ in 1...10 { try await fixture.signInAdmin(fixture.newClient(like: client)) }
            #expect(try await first.get("/admin/api/session").status == .unauthorized)
            let admin = try #require(try await fixture.admins.find(PortalFixture.superadminEmail))
            let store = SessionStore(master: fixture.platform.platform.master, idleTimeout: .seconds(3600), lifetime: .seconds(3600))
            #expect(try await store.count(.admin(admin.id)) == 10)
        }
    }

    @Test("sessions live in the master database: a second server process accepts the first one's cookie")
    func sessionsSurviveARestart() async throws {
        try await PortalFixture.run { fixture, client in
            try await fixture.signInAdmin(client)
            let cookie = try #require(client.cookies["pgperm_admin"])
            let stored = try await fixture.platform.platform.master.query(
                "SELECT count(*) FROM platform.portal_session WHERE token_hash = $1", [SecretToken.hash(cookie)]).scalar(Int.self)
            #expect(stored == 1)
            let raw = try await fixture.platform.platform.master.query(
                "SELECT count(*) FROM platform.portal_session WHERE encode(token_hash, 'escape') LIKE '%' || $1 || '%'", [cookie]).scalar(Int.self)
            #expect(raw == 0, "the token itself is never stored")
            let restarted = PortalServer(platform: fixture.platform.platform, configuration: .init())
            let status = try await restarted.application().test(.router) { other in
                let browser = PortalClient(other)
                browser.setCookie("pgperm_admin", cookie)
                return try await browser.get("/admin/api/session").status
            }
            #expect(status == .ok)
        }
    }

    @Test("before sign-in an unknown, a suspended and a real tenant answer alike; a non-member's right password is not confirmed")
    func noTenantOrPasswordOracle() async throws {
        try await PortalFixture.run { fixture, client in
            let acme = try await fixture.createTenant("acme")
            _ = try await fixture.createTenant("dormant")
            try await fixture.platform.lifecycle.suspend(slug: "dormant")
            for slug in ["acme", "nope", "dormant"] {
                let read = try await client.get("/t/\(slug)/api/permissions")
                #expect(read.status == .unauthorized && read.errorCode == "not_signed_in", "\(slug)")
                let signIn = try await client.send(.post, "/t/\(slug)/api/session", json: ["username": "x", "password": "y"])
                #expect(signIn.status == .unauthorized && signIn.errorCode == "wrong_credentials", "\(slug)")
            }
            // A user of acme's database who is not a member of its tenant, with the right password.
            try await fixture.platform.withTenantConnection("acme") { connection in
                let auth = AuthClient(connection)
                let loner = try await auth.createUser(username: "loner")
                try await auth.setUserPassword(loner, password: PortalFixture.password)
            }
            let loner = try await client.send(.post, "/t/acme/api/session", json: ["username": "loner", "password": PortalFixture.password])
            let wrong = try await client.send(.post, "/t/acme/api/session", json: ["username": "loner", "password": "not it at all"])
            #expect(loner.status == wrong.status && loner.errorCode == wrong.errorCode && loner.body == wrong.body)
            #expect(!acme.adminEmail.hasPrefix("admin@"), "the initial tenant admin's username is not guessable")
        }
    }
}
