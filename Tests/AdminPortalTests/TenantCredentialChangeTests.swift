import Foundation
import HTTPTypes
import PostgresTestSupport
import Testing

/// A member's own password change, and the sessions a change of credentials ends: the
/// member's other sessions when they change their password or enable an authenticator, all of
/// them when an administrator resets either; never the administrator's, nor another tenant's.
@Suite("Tenant API: changes of credentials")
struct TenantCredentialChangeTests {
    /// Another browser signed in as `username` to the admin's tenant.
    private static func signedIn(_ fixture: PortalFixture, like admin: TenantAPIClient, _ username: String,
                                 password: String = PortalFixture.password) async throws -> TenantAPIClient {
        let browser = fixture.newClient(like: admin.client)
        let reply = try await browser.send(.post, "/t/\(admin.slug)/api/session", json: ["username": username, "password": password])
        #expect(reply.status == .ok, "\(reply.error)")
        return TenantAPIClient(client: browser, slug: admin.slug)
    }

    private static func signIn(_ fixture: PortalFixture, like admin: TenantAPIClient, _ username: String,
                               password: String) async throws -> PortalClient.Reply {
        try await fixture.newClient(like: admin.client).send(.post, "/t/\(admin.slug)/api/session",
                                                              json: ["username": username, "password": password])
    }

    @Test("a member changes their own password with the current one; bad input changes nothing; their other sessions end")
    func ownPassword() async throws {
        try await PortalFixture.run { fixture, client in
            let admin = try await fixture.tenantAdmin("acme", like: client)
            let (_, mia) = try await fixture.tenantMember("mia", holding: "USER", by: admin)
            let phone = try await Self.signedIn(fixture, like: admin, "mia")
            let current = PortalFixture.password, new = "a new passphrase"

            for (body, status, code) in [
                (["new_password": new], HTTPResponse.Status.badRequest, "missing_field"),
                (["current_password": current], .badRequest, "missing_field"),
                (["current_password": "not mine", "new_password": new], .unauthorized, "wrong_credentials"),
                (["current_password": current, "new_password": "short"], .badRequest, "QI006"),
                (["current_password": current, "new_password": String(repeating: "é", count: 40)], .badRequest, "QI006"),
                (["current_password": current, "new_password": "nul\u{0}in the middle"], .badRequest, "invalid_field"),
                (["current_password": current, "new_password": String(repeating: "x", count: 2_000)], .badRequest, "bad_request"),
                (["current_password": current, "new_password": String(repeating: "x", count: 100_000)], .contentTooLarge, "body_too_large"),
            ] {
                let reply = try await mia.send(.put, "session/password", json: body)
                #expect(reply.status == status && reply.errorCode == code, "\(body.keys.sorted()): \(reply.status) \(reply.error)")
            }
            #expect(try await phone.get("session").status == .ok, "a refused change ends nothing")
            #expect(try await Self.signIn(fixture, like: admin, "mia", password: current).status == .ok, "nor changes the password")

            #expect(try await mia.send(.put, "session/password", json: ["current_password": current, "new_password": new]).status == .noContent)
            #expect(try await mia.get("session").status == .ok, "the session that changed it stays")
            #expect(try await phone.get("session").status == .unauthorized, "the other one ended")
            #expect(try await Self.signIn(fixture, like: admin, "mia", password: current).errorCode == "wrong_credentials")
            #expect(try await Self.signIn(fixture, like: admin, "mia", password: new).status == .ok)
            #expect(try await admin.get("session").status == .ok)
        }
    }

    @Test("attack: a stolen session guessing the current password locks the account instead of changing it")
    func guessingThroughAStolenSession() async throws {
        try await PortalFixture.run { fixture, client in
            let admin = try await fixture.tenantAdmin("acme", like: client)
            let (_, stolen) = try await fixture.tenantMember("mia", holding: "USER", by: admin)
            for guess in 1...5 {
                let reply = try await stolen.send(.put, "session/password", json: ["current_password": "guess \(guess)", "new_password": "the thief's own"])
                #expect(reply.errorCode == "wrong_credentials")
            }
            // Locked now: even the right password neither changes it nor signs in.
            let right = try await stolen.send(.put, "session/password",
                                              json: ["current_password": PortalFixture.password, "new_password": "the thief's own"])
            #expect(right.errorCode == "wrong_credentials")
            #expect(try await Self.signIn(fixture, like: admin, "mia", password: "the thief's own").errorCode == "wrong_credentials")
            #expect(try await Self.signIn(fixture, like: admin, "mia", password: PortalFixture.password).errorCode == "wrong_credentials")
        }
    }

    @Test("attack: with a stolen session and the password, the authenticator still guards the change, and wrong codes keep counting")
    func authenticatorGuardsTheChange() async throws {
        try await PortalFixture.run { fixture, client in
            let admin = try await fixture.tenantAdmin("acme", like: client)
            let (_, mia) = try await fixture.tenantMember("mia", holding: "USER", by: admin)
            let secret = try #require(try await mia.send(.post, "second-factor", json: ["password": PortalFixture.password]).json["secret"] as? String)
            let recovery = try #require(try await mia.send(.post, "second-factor/confirm", json: ["code": TOTPGenerator.code(secret: secret)])
                .json["recovery_codes"] as? [String])
            let change = ["current_password": PortalFixture.password, "new_password": "a new passphrase"]

            #expect(try await mia.send(.put, "session/password", json: change).errorCode == "second_factor_required")
            var withCode = change
            withCode["second_factor_code"] = recovery[0]
            #expect(try await mia.send(.put, "session/password", json: withCode).status == .noContent)

            // The thief holds the session and the new password, not the device. A change of
            // password used to clear the lockout's count, which would let codes be guessed forever.
            for _ in 1...4 {
                #expect(try await mia.send(.post, "second-factor/disable", json: ["code": "000000"]).errorCode == "wrong_second_factor")
            }
            let guess = ["current_password": "a new passphrase", "new_password": "a new passphrase", "second_factor_code": "000001"]
            #expect(try await mia.send(.put, "session/password", json: guess).errorCode == "wrong_second_factor")
            // The fifth wrong code locked the account: not even a right code passes now.
            var right = guess
            right["second_factor_code"] = recovery[1]
            #expect(try await mia.send(.put, "session/password", json: right).errorCode == "wrong_credentials")
            #expect(try await mia.get("second-factor").json["enabled"] as? Bool == true)
        }
    }

    @Test("enrolling at sign-in, when the tenant requires a second factor, ends the sessions opened without one")
    func enrolmentAtSignIn() async throws {
        try await PortalFixture.run { fixture, client in
            let admin = try await fixture.tenantAdmin("acme", like: client)
            let (_, older) = try await fixture.tenantMember("mia", holding: "USER", by: admin)
            #expect(try await admin.send(.put, "second-factor/policy", json: ["policy": "required"]).status == .noContent)
            let browser = fixture.newClient(like: client)
            let credentials = ["username": "mia", "password": PortalFixture.password]
            let begun = try await browser.send(.post, "/t/acme/api/session/second-factor", json: credentials)
            let secret = try #require(begun.json["secret"] as? String)
            #expect(try await older.get("session").status == .ok, "beginning ends nothing")
            var withCode = credentials
            withCode["second_factor_code"] = TOTPGenerator.code(secret: secret)
            #expect(try await browser.send(.post, "/t/acme/api/session", json: withCode).status == .ok)
            #expect(try await browser.get("/t/acme/api/session").status == .ok)
            #expect(try await older.get("session").status == .unauthorized)
        }
    }

    @Test("an administrator's reset of a password or a second factor ends the member's sessions, not their own nor another tenant's")
    func administratorResets() async throws {
        try await PortalFixture.run { fixture, client in
            let acme = try await fixture.tenantAdmin("acme", like: client)
            let (miaID, mia) = try await fixture.tenantMember("mia", holding: "USER", by: acme)
            let phone = try await Self.signedIn(fixture, like: acme, "mia")
            let globex = try await fixture.tenantAdmin("globex", like: client)
            let (_, otherMia) = try await fixture.tenantMember("mia", holding: "USER", by: globex)

            #expect(try await acme.send(.put, "users/\(miaID)/password", json: ["password": "set by the admin"]).status == .noContent)
            #expect(try await mia.get("session").status == .unauthorized)
            #expect(try await phone.get("session").status == .unauthorized)
            #expect(try await acme.get("session").status == .ok, "the administrator stays signed in")
            #expect(try await otherMia.get("session").status == .ok, "the same username in another tenant is another member")
            // An unknown member's reset ends nothing and says so.
            let unknown = try await acme.send(.put, "users/\(UUID())/password", json: ["password": "set by the admin"])
            #expect(unknown.status == .notFound, "\(unknown.error)")

            // She signs in with the new password and enrols an authenticator, which the admin then resets.
            let again = try await Self.signedIn(fixture, like: acme, "mia", password: "set by the admin")
            let begun = try await again.send(.post, "second-factor", json: ["password": "set by the admin"])
            let secret = try #require(begun.json["secret"] as? String)
            #expect(try await again.send(.post, "second-factor/confirm", json: ["code": TOTPGenerator.code(secret: secret)]).status == .ok)
            #expect(try await again.get("session").status == .ok)
            #expect(try await acme.send(.delete, "users/\(miaID)/second-factor").status == .noContent)
            #expect(try await again.get("session").status == .unauthorized)
            #expect(try await acme.get("session").status == .ok)
            #expect(try await otherMia.get("session").status == .ok)
        }
    }

    @Test("enabling an authenticator ends the member's other sessions, opened without it")
    func enablingSecondFactor() async throws {
        try await PortalFixture.run { fixture, client in
            let admin = try await fixture.tenantAdmin("acme", like: client)
            let (_, mia) = try await fixture.tenantMember("mia", holding: "USER", by: admin)
            let phone = try await Self.signedIn(fixture, like: admin, "mia")
            let begun = try await mia.send(.post, "second-factor", json: ["password": PortalFixture.password])
            let secret = try #require(begun.json["secret"] as? String)
            #expect(try await phone.get("session").status == .ok, "beginning an enrolment ends nothing")
            #expect(try await mia.send(.post, "second-factor/confirm", json: ["code": "000000"]).errorCode == "QI013")
            #expect(try await phone.get("session").status == .ok, "nor does a wrong code")
            #expect(try await mia.send(.post, "second-factor/confirm", json: ["code": TOTPGenerator.code(secret: secret)]).status == .ok)
            #expect(try await mia.get("session").status == .ok)
            #expect(try await phone.get("session").status == .unauthorized)
        }
    }
}
