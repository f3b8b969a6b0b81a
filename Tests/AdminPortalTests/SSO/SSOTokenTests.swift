import AdminPortal
import Foundation
import HTTPTypes
import Permissions
import SingleSignOn
import TenantPlatform
import Testing

/// Every check of the ID token, through the portal's callback, with tokens a test provider
/// signs with test keys (Microsoft Entra ID's endpoints and claims: `tid`, `oid`, `xms_edov`).
@Suite("Single sign-on: ID token checks (Entra ID, test keys)")
struct SSOTokenTests {
    static let clientID = "6731de76-14a6-49ae-97bc-6eba6914391e"

    struct Context {
        let sso: SSOHarness
        let provider: TestIdentityProvider

        /// Starts a sign-in, lets the provider answer `token(nonce)` for its code, and calls back.
        func signIn(_ token: (_ nonce: String) throws -> String) async throws -> PortalClient.Reply {
            let start = try await sso.start()
            #expect(start.reply.status == .found, "\(start.reply.json)")
            let code = "code-\(UUID().uuidString)"
            provider.register(code: code, idToken: try token(start.query["nonce"] ?? ""))
            return try await sso.callback(query: ["state": start.query["state"] ?? "", "code": code])
        }

        func claims(_ nonce: String, _ change: (inout [String: Any]) -> Void = { _ in }) -> [String: Any] {
            var claims = provider.claims(clientID: SSOTokenTests.clientID, nonce: nonce)
            change(&claims)
            return claims
        }
    }

    static func run(keyRefetchInterval: Duration = .seconds(60), _ body: @Sendable (Context) async throws -> Void) async throws {
        let provider = try await TestIdentityProvider.start()
        defer { provider.stop() }
        var configuration = PortalConfiguration()
        configuration.singleSignOn = .init(timeout: .seconds(5), keyRefetchInterval: keyRefetchInterval,
                                           entraAuthority: provider.authority)
        try await PortalFixture.run(configuration) { fixture, client in
            let sso = try await SSOHarness.make(fixture, client, provider: .entraID(tenantID: TestIdentityProvider.tenantID),
                                                clientID: clientID)
            try await sso.member("ada", email: "ada@contoso.com")
            try await body(Context(sso: sso, provider: provider))
        }
    }

    /// Expects the callback refused as an invalid token, saying `reason`.
    static func expectRefused(_ reply: PortalClient.Reply, _ reason: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(reply.status == .unauthorized, "\(reply.json)", sourceLocation: sourceLocation)
        #expect(reply.errorCode == "sso_token_invalid", sourceLocation: sourceLocation)
        #expect(reply.errorMessage?.contains(reason) == true, "\(reply.errorMessage ?? "")", sourceLocation: sourceLocation)
    }

    @Test("a valid Entra token (RS256, then ES256) signs in, subject = oid; Entra's start sends domain_hint")
    func valid() async throws {
        try await Self.run { c in
            let start = try await c.sso.start()
            #expect(start.url.hasPrefix("\(c.provider.authority)/\(TestIdentityProvider.tenantID)/oauth2/v2.0/authorize?"))
            #expect(start.query["domain_hint"] == "contoso.com")
            let rs = try await c.signIn { try c.provider.sign(c.claims($0)) }
            #expect(rs.status == .ok, "\(rs.json)")
            let es = try await c.signIn { try c.provider.sign(c.claims($0), alg: "ES256", kid: TestIdentityProvider.ecKid) }
            #expect(es.status == .ok, "\(es.json)")
            #expect(es.json["linked_by"] as? String == "identity")
            let identities = try await c.sso.tenantSQL { connection, auth, _ in
                try await auth.userIdentities(try await connection.query("SELECT user_id FROM auth.user_info WHERE username = 'ada'").scalar(UserID.self))
            }
            #expect(identities.map(\.subject) == ["oid-ada"] && identities.map(\.issuer) == [c.provider.entraIssuer])
        }
    }

    @Test("wrong issuer, audience, tid and nonce are refused")
    func claimsRefused() async throws {
        try await Self.run { c in
            Self.expectRefused(try await c.signIn { try c.provider.sign(c.claims($0) { $0["iss"] = "https://login.microsoftonline.com/\(TestIdentityProvider.tenantID)/v2.0" }) }, "issuer")
            Self.expectRefused(try await c.signIn { try c.provider.sign(c.claims($0) { $0["iss"] = c.provider.entraIssuer + "/" }) }, "issuer")
            Self.expectRefused(try await c.signIn { try c.provider.sign(c.claims($0) { $0["aud"] = "00000000-0000-0000-0000-000000000000" }) }, "audience")
            Self.expectRefused(try await c.signIn { try c.provider.sign(c.claims($0) { $0["aud"] = [SSOTokenTests.clientID, "another-app"] }) }, "audience")
            Self.expectRefused(try await c.signIn { try c.provider.sign(c.claims($0) { $0["tid"] = "72f988bf-86f1-41af-91ab-2d7cd011db47" }) }, "tid")
            Self.expectRefused(try await c.signIn { try c.provider.sign(c.claims($0) { $0.removeValue(forKey: "tid") }) }, "tid")
            Self.expectRefused(try await c.signIn { try c.provider.sign(c.claims($0) { $0["nonce"] = "another-nonce" }) }, "nonce")
            Self.expectRefused(try await c.signIn { try c.provider.sign(c.claims($0) { $0.removeValue(forKey: "nonce") }) }, "nonce")
            Self.expectRefused(try await c.signIn { try c.provider.sign(c.claims($0) { $0.removeValue(forKey: "oid") }) }, "oid")
        }
    }

    @Test("expired, not yet valid and issued-in-the-future tokens are refused beyond 2 minutes of skew, accepted within")
    func times() async throws {
        try await Self.run { c in
            // Each token's times are taken when it is made, just before the callback checks it,
            // 40 seconds past the 2 minutes of skew either way (a loaded machine is slow).
            func now() -> Int { Int(Date().timeIntervalSince1970) }
            Self.expectRefused(try await c.signIn { try c.provider.sign(c.claims($0) { $0["exp"] = now() - 160 }) }, "expired")
            Self.expectRefused(try await c.signIn { try c.provider.sign(c.claims($0) { $0.removeValue(forKey: "exp") }) }, "expired")
            Self.expectRefused(try await c.signIn { try c.provider.sign(c.claims($0) { $0["nbf"] = now() + 160 }) }, "not valid yet")
            Self.expectRefused(try await c.signIn { try c.provider.sign(c.claims($0) { $0["iat"] = now() + 160 }) }, "future")
            let skewed = try await c.signIn { try c.provider.sign(c.claims($0) { $0["exp"] = now() - 80; $0["nbf"] = now() + 80; $0["iat"] = now() + 80 }) }
            #expect(skewed.status == .ok, "\(skewed.json)")
        }
    }

    @Test("a bad signature, alg none, HMAC keyed with the public key, and a key of another type are refused")
    func signatures() async throws {
        try await Self.run { c in
            Self.expectRefused(try await c.signIn { nonce in
                let token = try c.provider.sign(c.claims(nonce))
                let parts = token.split(separator: ".")
                let tampered = try TestIdentityProvider.part(c.claims(nonce) { $0["email"] = "mallory@contoso.com" })
                return "\(parts[0]).\(tampered).\(parts[2])"
            }, "signature")
            Self.expectRefused(try await c.signIn { try c.provider.unsigned(c.claims($0)) }, "alg none")
            Self.expectRefused(try await c.signIn { try c.provider.hmacWithPublicKey(c.claims($0)) }, "HMAC")
            Self.expectRefused(try await c.signIn { try c.provider.sign(c.claims($0), alg: "ES256", kid: TestIdentityProvider.rsaKid) }, "does not match")
            Self.expectRefused(try await c.signIn { try c.provider.sign(c.claims($0), kid: nil) }, "kid")
            Self.expectRefused(try await c.signIn { _ in "not.a-token" }, "not a signed JSON Web Token")
        }
    }

    @Test("an unknown kid makes one refetch of the key set, then a refusal; a rotated-in key is found by that refetch")
    func unknownKid() async throws {
        #expect(SingleSignOnClient.Configuration().keyRefetchInterval == .seconds(60), "at most once a minute by default")
        // A long interval here, so that a slow machine does not reach it during the test.
        try await Self.run(keyRefetchInterval: .seconds(600)) { c in
            c.provider.publish([TestIdentityProvider.ecKid])
            // (Each reply is taken before #expect: a closure written inside the macro was once run
            // in place of a later one of the same function.)
            let first = try await c.signIn { try c.provider.sign(c.claims($0), alg: "ES256", kid: TestIdentityProvider.ecKid) }
            #expect(first.status == .ok)
            let fetches = c.provider.keySetFetches
            #expect(fetches == 1)

            // The provider rotates in the RSA key: the first token naming it triggers the refetch.
            c.provider.publish([TestIdentityProvider.ecKid, TestIdentityProvider.rsaKid])
            // ... but not within a minute of the last fetch: refused without asking again.
            Self.expectRefused(try await c.signIn { try c.provider.sign(c.claims($0), alg: "RS256", kid: TestIdentityProvider.rsaKid) },
                               "not in the provider's key set")
            #expect(c.provider.keySetFetches == fetches)
            Self.expectRefused(try await c.signIn { try c.provider.sign(c.claims($0), kid: "made-up") }, "not in the provider's key set")
            #expect(c.provider.keySetFetches == fetches)
        }
        try await Self.run(keyRefetchInterval: .milliseconds(300)) { c in
            c.provider.publish([TestIdentityProvider.ecKid])
            let first = try await c.signIn { try c.provider.sign(c.claims($0), alg: "ES256", kid: TestIdentityProvider.ecKid) }
            #expect(first.status == .ok)
            c.provider.publish([TestIdentityProvider.ecKid, TestIdentityProvider.rsaKid])
            try await Task.sleep(for: .milliseconds(400))
            let rotated = try await c.signIn { try c.provider.sign(c.claims($0)) }
            #expect(rotated.status == .ok, "found by one refetch")
            #expect(c.provider.keySetFetches == 2)
            try await Task.sleep(for: .milliseconds(400))
            Self.expectRefused(try await c.signIn { try c.provider.sign(c.claims($0), kid: "made-up") }, "not in the provider's key set")
            #expect(c.provider.keySetFetches == 3, "one refetch, then the refusal")
        }
    }

    @Test("Entra: an email without xms_edov is not verified; email_verified does not count for Entra")
    func entraEmailVerification() async throws {
        try await Self.run { c in
            let reply = try await c.signIn { try c.provider.sign(c.claims($0) { $0.removeValue(forKey: "xms_edov"); $0["email_verified"] = true }) }
            #expect(reply.status == .forbidden)
            #expect(reply.errorCode == "sso_email_not_verified")
            #expect((reply.error["hint"] as? String)?.contains("xms_edov") == true)
            let stringly = try await c.signIn { try c.provider.sign(c.claims($0) { $0["xms_edov"] = "1" }) }
            #expect(stringly.status == .ok, "Entra sends it as \"1\" in some tokens")
        }
    }

    @Test("refusals are audited with their reason and without the token")
    func auditedWithoutToken() async throws {
        try await Self.run { c in
            var sent = ""
            _ = try await c.signIn { nonce in
                sent = try c.provider.sign(c.claims(nonce) { $0["aud"] = "someone-else" })
                return sent
            }
            let audit = try await c.sso.platformAudit()
            let refused = try #require(audit.last { $0.action == "sso.sign_in_refused" })
            #expect(refused.details.contains("sso_token_invalid"))
            #expect(!refused.details.contains(String(sent.split(separator: ".")[2])))
        }
    }
}
