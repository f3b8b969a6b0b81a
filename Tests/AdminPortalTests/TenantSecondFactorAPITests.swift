import Foundation
import HTTPTypes
import PostgresTestSupport
import Testing

/// The tenant API's second factor: enrolment by the member, sign-in with a code or a recovery
/// code, the tenant's policy, an administrator's reset, and a code-guessing attack.
@Suite("Tenant API: second factor")
struct TenantSecondFactorAPITests {
    static func signIn(_ browser: PortalClient, _ slug: String, _ username: String, code: String? = nil,
                       password: String = PortalFixture.password) async throws -> PortalClient.Reply {
        var body: [String: Any] = ["username": username, "password": password]
        if let code { body["second_factor_code"] = code }
        return try await browser.send(.post, "/t/\(slug)/api/session", json: body)
    }

    @Test("a member enrols, then signs in with a current code or a recovery code, each once")
    func enrolAndSignIn() async throws {
        try await PortalFixture.run { fixture, client in
            let admin = try await fixture.tenantAdmin("acme", like: client)
            let (_, member) = try await fixture.tenantMember("mia", holding: "USER", by: admin)
            // A session alone cannot enrol: the password comes too.
            #expect(try await member.send(.post, "second-factor", json: [:]).status == .badRequest)
            #expect(try await member.send(.post, "second-factor", json: ["password": "not mine"]).errorCode == "wrong_credentials")
            let begun = try await member.send(.post, "second-factor", json: ["password": PortalFixture.password])
            #expect(begun.status == .ok, "\(begun.error)")
            let secret = try #require(begun.json["secret"] as? String)
            #expect((begun.json["otpauth_uri"] as? String)?.hasPrefix("otpauth://totp/acme:mia?secret=\(secret)") == true)
            let pending = try await member.get("second-factor").json
            #expect(pending["pending"] as? Bool == true && pending["enabled"] as? Bool == false && pending["policy"] as? String == "optional")

            #expect(try await member.send(.post, "second-factor/confirm", json: ["code": "000000"]).errorCode == "QI013")
            let confirmed = try await member.send(.post, "second-factor/confirm", json: ["code": TOTPGenerator.code(secret: secret)])
            let recovery = try #require(confirmed.json["recovery_codes"] as? [String])
            #expect(recovery.count == 10)
            #expect(try await member.get("second-factor").json["recovery_codes_left"] as? Int == 10)

            let browser = fixture.newClient(like: client)
            #expect(try await Self.signIn(browser, "acme", "mia").errorCode == "second_factor_required")
            #expect(try await browser.get("/t/acme/api/session").status == .unauthorized, "no session without the code")
            #expect(try await Self.signIn(browser, "acme", "mia", code: "123456").errorCode == "wrong_second_factor")
            let code = TOTPGenerator.code(secret: secret, steps: 1)
            let signedIn = try await Self.signIn(browser, "acme", "mia", code: code)
            #expect(signedIn.status == .ok && signedIn.json["recovery_codes"] == nil)
            #expect(try await Self.signIn(fixture.newClient(like: client), "acme", "mia", code: code).errorCode == "wrong_second_factor",
                    "a code serves once")
            #expect(try await Self.signIn(fixture.newClient(like: client), "acme", "mia", code: recovery[3]).status == .ok)
            #expect(try await Self.signIn(fixture.newClient(like: client), "acme", "mia", code: recovery[3]).errorCode == "wrong_second_factor")
            #expect(try await Self.signIn(browser, "acme", "mia", code: String(repeating: "1", count: 65)).status == .badRequest)
        }
    }

    @Test("a tenant that requires a second factor makes members without one enrol at sign-in")
    func requiredPolicy() async throws {
        try await PortalFixture.run { fixture, client in
            let admin = try await fixture.tenantAdmin("acme", like: client)
            let (_, member) = try await fixture.tenantMember("noah", holding: "USER", by: admin)
            let early = try await fixture.newClient(like: client).send(.post, "/t/acme/api/session/second-factor",
                                                                      json: ["username": "noah", "password": PortalFixture.password])
            #expect(early.status == .forbidden && early.errorCode == "second_factor_not_required")
            #expect(try await member.send(.put, "second-factor/policy", json: ["policy": "required"]).errorCode == "42501")
            #expect(try await admin.send(.put, "second-factor/policy", json: ["policy": "always"]).status == .badRequest)
            #expect(try await admin.send(.put, "second-factor/policy", json: ["policy": "required"]).status == .noContent)
            #expect(try await member.get("second-factor").json["policy"] as? String == "required")

            let browser = fixture.newClient(like: client)
            let refused = try await Self.signIn(browser, "acme", "noah")
            #expect(refused.status == .forbidden && refused.errorCode == "second_factor_enrolment_required")
            #expect((refused.error["hint"] as? String)?.contains("/t/acme/api/session/second-factor") == true)
            let wrong = try await browser.send(.post, "/t/acme/api/session/second-factor", json: ["username": "noah", "password": "wrong password"])
            #expect(wrong.errorCode == "wrong_credentials")
            let begun = try await browser.send(.post, "/t/acme/api/session/second-factor",
                                               json: ["username": "noah", "password": PortalFixture.password])
            let secret = try #require(begun.json["secret"] as? String)
            #expect(try await Self.signIn(browser, "acme", "noah", code: "000000").errorCode == "wrong_second_factor")
            let enrolled = try await Self.signIn(browser, "acme", "noah", code: TOTPGenerator.code(secret: secret))
            #expect(enrolled.status == .ok && (enrolled.json["recovery_codes"] as? [String])?.count == 10)
            #expect(try await browser.get("/t/acme/api/second-factor").json["enabled"] as? Bool == true)
            let again = try await browser.send(.post, "/t/acme/api/session/second-factor",
                                               json: ["username": "noah", "password": PortalFixture.password])
            #expect(again.errorCode == "second_factor_required", "enrolled: nothing to begin before sign-in")
            #expect(try await Self.signIn(fixture.newClient(like: client), "acme", "noah").errorCode == "second_factor_required")
        }
    }

    @Test("removing the authenticator or renewing recovery codes needs a current code; an administrator resets a member's")
    func disableRenewAndReset() async throws {
        try await PortalFixture.run { fixture, client in
            let admin = try await fixture.tenantAdmin("acme", like: client)
            let (memberID, member) = try await fixture.tenantMember("olga", holding: "USER", by: admin)
            let secret = try #require(try await member.send(.post, "second-factor", json: ["password": PortalFixture.password]).json["secret"] as? String)
            _ = try await member.send(.post, "second-factor/confirm", json: ["code": TOTPGenerator.code(secret: secret)])

            #expect(try await member.send(.post, "second-factor/recovery-codes", json: [:]).errorCode == "second_factor_required")
            let renewed = try await member.send(.post, "second-factor/recovery-codes", json: ["code": TOTPGenerator.code(secret: secret, steps: 1)])
            #expect((renewed.json["recovery_codes"] as? [String])?.count == 10)
            #expect(try await member.send(.post, "second-factor/disable", json: [:]).errorCode == "second_factor_required")
            #expect(try await member.send(.post, "second-factor/disable", json: ["code": "999999"]).errorCode == "wrong_second_factor")
            #expect(try await member.get("second-factor").json["enabled"] as? Bool == true, "a wrong code removes nothing")

            // The member lost the device: an administrator of this tenant resets it; others cannot.
            #expect(try await member.send(.delete, "users/\(memberID)/second-factor").errorCode == "42501")
            let beta = try await fixture.tenantAdmin("beta", like: client)
            #expect(try await beta.send(.delete, "users/\(memberID)/second-factor").status == .notFound, "another tenant's member")
            #expect(try await member.get("second-factor").json["enabled"] as? Bool == true)
            #expect(try await admin.send(.delete, "users/\(memberID)/second-factor").status == .noContent)
            #expect(try await member.get("session").status == .unauthorized, "the reset ends the member's sessions")
            // Never their own: a stolen administrator session could otherwise take the account over.
            let adminID = try #require(try await admin.get("session").json["user_id"] as? String)
            #expect(try await admin.send(.delete, "users/\(adminID)/second-factor").errorCode == "cannot_change_self")
            #expect(try await admin.send(.put, "users/\(adminID)/password", json: ["password": "a new password"]).errorCode == "cannot_change_self")
            let browser = fixture.newClient(like: client)
            #expect(try await Self.signIn(browser, "acme", "olga").status == .ok)
            let olga = TenantAPIClient(client: browser, slug: "acme")

            // A pending enrolment is cancelled without a code.
            _ = try await olga.send(.post, "second-factor", json: ["password": PortalFixture.password])
            #expect(try await olga.send(.post, "second-factor/disable", json: [:]).status == .noContent)
            #expect(try await olga.get("second-factor").json["pending"] as? Bool == false)
        }
    }

    @Test("attack: guessing codes with the right password locks the account after max_failed_logins")
    func guessingLocks() async throws {
        try await PortalFixture.run { fixture, client in
            let admin = try await fixture.tenantAdmin("acme", like: client)
            let (_, member) = try await fixture.tenantMember("pete", holding: "USER", by: admin)
            let secret = try #require(try await member.send(.post, "second-factor", json: ["password": PortalFixture.password]).json["secret"] as? String)
            _ = try await member.send(.post, "second-factor/confirm", json: ["code": TOTPGenerator.code(secret: secret)])

            let attacker = fixture.newClient(like: client)
            let right = TOTPGenerator.code(secret: secret, steps: 1)
            var guess = 0
            for _ in 0..<5 {  // the schema's default: 5 failures lock for 15 minutes
                repeat { guess += 1 } while String(format: "%06d", guess) == right
                #expect(try await Self.signIn(attacker, "acme", "pete", code: String(format: "%06d", guess)).errorCode == "wrong_second_factor")
            }
            // Locked: even the password with the right code is refused, as a locked password is.
            #expect(try await Self.signIn(attacker, "acme", "pete", code: right).errorCode == "wrong_credentials")
            #expect(try await Self.signIn(fixture.newClient(like: client), "acme", "pete", code: right).errorCode == "wrong_credentials")
        }
    }
}
