import AdminPortal
import Crypto
import Foundation
import HTTPTypes
import NIOCore
import NIOPosix
import Permissions
import PlatformTestSupport
import SingleSignOn
import TenantPlatform
import Testing

/// Single sign-on driven headlessly against a real OpenID Connect provider
/// (oidc-provider-mock on loopback): the provider's authorization form is submitted with a
/// `sub`, and its redirect followed back to the portal.
@Suite("Single sign-on: the flow against a real OpenID provider")
struct SSOFlowTests {
    static func run(justInTime: JustInTimeMembership = .off,
                    _ body: @Sendable (SSOHarness, MockOpenIDProvider, String) async throws -> Void) async throws {
        let issuer = try await MockOpenIDProvider.shared.issuer()
        try await PortalFixture.run { fixture, client in
            let harness = try await SSOHarness.make(fixture, client, provider: .openIDConnect(issuer: issuer), justInTime: justInTime)
            try await body(harness, MockOpenIDProvider.shared, issuer)
        }
    }

    /// A person of the provider with a verified email (a unique sub per test: the provider is shared).
    static func person(_ provider: MockOpenIDProvider, email: String = "ada@contoso.com", verified: Any = true) async throws -> String {
        let sub = "sub-\(UUID().uuidString.prefix(8))"
        try await provider.setUser(sub, claims: ["email": email, "email_verified": verified, "name": "Ada Lovelace"])
        return sub
    }

    @Test("a first sign-in links the active member with the verified email; the next one finds them by (issuer, subject)")
    func linkByEmailThenIdentity() async throws {
        try await Self.run { sso, provider, issuer in
            let ada = try await sso.member("ada", email: "Ada@Contoso.com")
            let sub = try await Self.person(provider)

            let start = try await sso.start(returnTo: "/app/")
            #expect(start.reply.status == .found)
            #expect(start.url.hasPrefix(issuer + "/oauth2/authorize?"))
            #expect(start.query["response_type"] == "code" && start.query["response_mode"] == "query")
            #expect(start.query["client_id"] == SSOHarness.clientID)
            #expect(start.query["scope"] == "openid profile email")
            #expect(start.query["code_challenge_method"] == "S256")
            #expect(start.query["login_hint"] == "ada@contoso.com")
            #expect(start.query["domain_hint"] == nil, "domain_hint is Entra's")
            #expect(start.query["redirect_uri"]?.hasSuffix("/t/acme/api/sso/callback") == true)
            let binding = try #require(start.reply.setCookie(named: "pgperm_sso"))
            #expect(binding.attributes == ["Max-Age=600", "Path=/t/acme/api/sso/", "HttpOnly", "SameSite=Lax"])

            let signedIn = try await sso.callback(try await provider.authorize(start.url, as: sub))
            #expect(signedIn.status == .ok, "\(signedIn.json)")
            #expect(signedIn.json["user_id"] as? String == ada.description)
            #expect(signedIn.json["linked_by"] as? String == "email")
            #expect(signedIn.json["return_to"] as? String == "/app/")
            let tenantID = try await sso.fixture.platform.platform.directory.require(slug: "acme").id
            let session = try #require(signedIn.setCookie(named: "pgperm_session_\(tenantID)"))
            #expect(session.attributes == ["Path=/t/", "HttpOnly", "SameSite=Strict"], "the session cookie proper stays Strict")
            #expect(signedIn.setCookie(named: "pgperm_sso")?.attributes.contains("Max-Age=0") == true)
            #expect(try await sso.client.get("/t/acme/api/session").json["user_id"] as? String == ada.description)

            // The identity is linked by issuer and subject, and the sign-in audited with its actor.
            let identities = try await sso.tenantSQL { _, auth, _ in try await auth.userIdentities(ada) }
            #expect(identities.map(\.issuer) == [issuer] && identities.map(\.subject) == [sub])
            let audit = try await sso.tenantSQL { _, auth, _ in try await auth.auditLog(tenant: nil) }
            #expect(audit.contains { $0.action == "user_identity.insert" && $0.actor == ada })

            // Second time: found by the identity, even with another email at the provider.
            try await provider.setUser(sub, claims: ["email": "ada.lovelace@contoso.com", "email_verified": true])
            let again = try await sso.start()
            let second = try await sso.callback(try await provider.authorize(again.url, as: sub))
            #expect(second.json["linked_by"] as? String == "identity")
            #expect(second.json["user_id"] as? String == ada.description)
            let platformAudit = try await sso.platformAudit()
            #expect(platformAudit.filter { $0.action == "sso.sign_in" }.count == 2)
            #expect(!platformAudit.contains { $0.details.contains(start.query["state"]!) }, "no secret in the audit log")
        }
    }

    @Test("signing in rotates the session: the one the browser brought is closed")
    func sessionRotation() async throws {
        try await Self.run { sso, provider, _ in
            try await sso.member("ada", email: "ada@contoso.com")
            let sub = try await Self.person(provider)
            let first = try await sso.callback(try await provider.authorize(try await sso.start().url, as: sub))
            let tenantID = try await sso.fixture.platform.platform.directory.require(slug: "acme").id
            let old = try #require(first.setCookie(named: "pgperm_session_\(tenantID)")?.value)
            let second = try await sso.callback(try await provider.authorize(try await sso.start().url, as: sub))
            let new = try #require(second.setCookie(named: "pgperm_session_\(tenantID)")?.value)
            #expect(old != new)
            let stranger = sso.fixture.newClient(like: sso.client)
            stranger.setCookie("pgperm_session_\(tenantID)", old)
            #expect(try await stranger.get("/t/acme/api/session").status == .unauthorized, "the old session is gone")
        }
    }

    @Test("PKCE: the challenge sent is S256 of the verifier kept in the master database, which is sent with the code")
    func pkce() async throws {
        try await Self.run { sso, _, _ in
            let start = try await sso.start()
            let verifier = try await sso.fixture.platform.platform.master.query(
                "SELECT code_verifier FROM platform.sso_login ORDER BY created_at DESC LIMIT 1").scalar(String.self)
            #expect(verifier.count == 43)
            let challenge = SecretToken.base64URL(Data(SHA256.hash(data: Data(verifier.utf8))))
            #expect(start.query["code_challenge"] == challenge)
            #expect(start.query["state"] != nil && start.query["nonce"] != nil && start.query["state"] != start.query["nonce"])
            // Only the state's hash is stored.
            let stored = try await sso.fixture.platform.platform.master.query(
                "SELECT count(*) FROM platform.sso_login WHERE encode(state_hash, 'escape') LIKE '%' || $1 || '%'",
                [start.query["state"]!]).scalar(Int.self)
            #expect(stored == 0)
        }
    }

    @Test("just-in-time membership creates the user, adds them to the tenant and gives them the default set")
    func justInTime() async throws {
        try await Self.run(justInTime: JustInTimeMembership(enabled: true, permSet: "USER")) { sso, provider, _ in
            let sub = try await Self.person(provider, email: "grace@contoso.com")
            let reply = try await sso.callback(try await provider.authorize(try await sso.start(email: "grace@contoso.com").url, as: sub))
            #expect(reply.status == .ok, "\(reply.json)")
            #expect(reply.json["linked_by"] as? String == "just_in_time")
            let user = UserID(UUID(uuidString: try #require(reply.json["user_id"] as? String))!)
            let (member, sets, actor) = try await sso.tenantSQL { connection, auth, tenant in
                (try await auth.checkTenantAccess(tenant: tenant, user: user),
                 try await connection.query("""
                    SELECT ps.code FROM auth.permission_assignment a JOIN auth.perm_set ps ON ps.perm_set_id = a.perm_set_id
                     WHERE a.user_id = $1
                    """, [user]).rows.map { try $0.decode(String.self, at: 0) },
                 try await auth.auditLog(tenant: tenant).first { $0.action == "tenant_user.insert" }?.actor)
            }
            #expect(member)
            #expect(sets == ["USER"])
            #expect(actor == user, "the new member's own actions are recorded as theirs")
            let codes = try #require(try await sso.client.get("/t/acme/api/permissions").json["perm_codes"] as? [String])
            #expect(codes.contains("users.view"))
        }
    }

    @Test("without just-in-time membership, someone who is not a member is refused with whom to ask")
    func notAMember() async throws {
        try await Self.run { sso, provider, _ in
            let sub = try await Self.person(provider, email: "eve@contoso.com")
            let reply = try await sso.callback(try await provider.authorize(try await sso.start(email: "eve@contoso.com").url, as: sub))
            #expect(reply.status == .forbidden)
            #expect(reply.errorCode == "sso_not_a_member")
            #expect((reply.error["hint"] as? String)?.contains("it@contoso.com") == true)
            #expect(try await sso.tenantSQL { connection, _, _ in
                try await connection.query("SELECT count(*) FROM auth.user_identity").scalar(Int.self) } == 0)
            #expect(try await sso.platformAudit().last?.action == "sso.sign_in_refused")
        }
    }

    @Test("a deactivated user, or one whose membership ended, is refused even with a linked identity")
    func deactivated() async throws {
        try await Self.run { sso, provider, _ in
            let ada = try await sso.member("ada", email: "ada@contoso.com")
            let sub = try await Self.person(provider)
            #expect(try await sso.callback(try await provider.authorize(try await sso.start().url, as: sub)).status == .ok)
            try await sso.tenantSQL { _, auth, _ in try await auth.deactivateUser(ada) }
            let reply = try await sso.callback(try await provider.authorize(try await sso.start().url, as: sub))
            #expect(reply.status == .forbidden)
            #expect(reply.errorCode == "sso_not_a_member")
            #expect(reply.errorMessage?.contains("deactivated") == true)
        }
    }

    @Test("the provider's access_denied ends on a readable error, and its state cannot be used again")
    func accessDenied() async throws {
        try await Self.run { sso, provider, _ in
            let start = try await sso.start()
            let redirect = try await provider.authorize(start.url, as: nil)
            #expect(SSOHarness.query(of: redirect.absoluteString)["error"] == "access_denied")
            let reply = try await sso.callback(redirect)
            #expect(reply.status == .unauthorized)
            #expect(reply.errorCode == "sso_provider_refused")
            #expect(reply.errorMessage?.contains("access_denied") == true)
            let rows = try await sso.fixture.platform.platform.master.query("SELECT count(*) FROM platform.sso_login").scalar(Int.self)
            #expect(rows == 0)
        }
    }

    @Test("a replayed callback (state used) and a replayed code (with a new state) are refused")
    func replays() async throws {
        try await Self.run { sso, provider, _ in
            try await sso.member("ada", email: "ada@contoso.com")
            let sub = try await Self.person(provider)
            let redirect = try await provider.authorize(try await sso.start().url, as: sub)
            #expect(try await sso.callback(redirect).status == .ok)
            let replayed = try await sso.callback(redirect)
            #expect(replayed.status == .badRequest)
            #expect(replayed.errorCode == "sso_state_invalid")

            let code = SSOHarness.query(of: redirect.absoluteString)["code"]!
            let fresh = try await sso.start()
            let reused = try await sso.callback(query: ["state": fresh.query["state"]!, "code": code])
            #expect(reused.status == .unauthorized)
            #expect(reused.errorCode == "sso_provider_refused", "the provider refuses a code used once")
        }
    }

    @Test("a callback from another browser (no binding cookie), a made-up state, and an expired one are refused")
    func stateBinding() async throws {
        try await Self.run { sso, provider, _ in
            try await sso.member("ada", email: "ada@contoso.com")
            let sub = try await Self.person(provider)
            let redirect = try await provider.authorize(try await sso.start().url, as: sub)
            let other = SSOHarness(fixture: sso.fixture, client: sso.fixture.newClient(like: sso.client))
            #expect(try await other.callback(redirect).errorCode == "sso_state_invalid")
            #expect(try await sso.callback(redirect).errorCode == "sso_state_invalid", "the attempt was used up")

            #expect(try await sso.callback(query: ["state": "made-up", "code": "x"]).errorCode == "sso_state_invalid")
            #expect(try await sso.callback(query: [:]).errorCode == "sso_state_invalid")

            let late = try await provider.authorize(try await sso.start().url, as: sub)
            try await sso.fixture.platform.platform.master.query("UPDATE platform.sso_login SET expires_at = now() - interval '1 second'")
            #expect(try await sso.callback(late).errorCode == "sso_state_invalid")
        }
    }

    @Test("an unverified email is refused, and so is a verified one of a domain the organization does not allow")
    func emailChecks() async throws {
        try await Self.run { sso, provider, _ in
            try await sso.member("ada", email: "ada@contoso.com")
            let unverified = try await Self.person(provider, verified: false)
            let reply = try await sso.callback(try await provider.authorize(try await sso.start().url, as: unverified))
            #expect(reply.status == .forbidden)
            #expect(reply.errorCode == "sso_email_not_verified")

            let outsider = try await Self.person(provider, email: "ada@fabrikam.com")
            let other = try await sso.callback(try await provider.authorize(try await sso.start().url, as: outsider))
            #expect(other.status == .forbidden)
            #expect(other.errorCode == "sso_domain_not_allowed")
        }
    }

    @Test("home-realm discovery: an email of a domain that is not the organization's is refused before the redirect")
    func homeRealm() async throws {
        try await Self.run { sso, _, _ in
            let organizations = sso.fixture.platform.platform.organizations
            try await organizations.create(name: "Fabrikam", adminEmail: "it@fabrikam.com")
            try await organizations.setSSO(of: "Fabrikam", provider: .openIDConnect(issuer: "https://id.fabrikam.com"),
                                           clientID: "x", clientSecret: "y", allowedDomains: ["fabrikam.com"])
            let elsewhere = try await sso.start(email: "bob@fabrikam.com")
            #expect(elsewhere.reply.status == .forbidden)
            #expect(elsewhere.reply.errorCode == "sso_domain_not_allowed")
            #expect(try await sso.start(email: "bob@unknown.example").reply.errorCode == "sso_domain_not_allowed")
            #expect(try await sso.start(email: "not an email").reply.status == .badRequest)
            #expect(try await sso.start(returnTo: "//evil.example/").reply.status == .badRequest, "no open redirect")
            #expect(try await sso.start(returnTo: "https://evil.example/").reply.status == .badRequest)
            #expect(try await sso.start(email: nil).reply.status == .found, "the email is optional")
            let found = try await organizations.organization(forEmail: "ada@CONTOSO.com")
            #expect(found?.name == "Contoso")
        }
    }

    @Test("a suspended tenant, an unknown one, and a tenant without SSO answer alike: not available")
    func unavailable() async throws {
        try await Self.run { sso, provider, _ in
            try await sso.member("ada", email: "ada@contoso.com")
            let sub = try await Self.person(provider)
            let redirect = try await provider.authorize(try await sso.start().url, as: sub)
            try await sso.fixture.platform.lifecycle.suspend(slug: "acme")
            let suspended = try await sso.callback(redirect)
            #expect(suspended.status == .notFound)
            #expect(suspended.errorCode == "sso_not_configured")
            #expect(try await sso.start().reply.errorCode == "sso_not_configured")
            #expect(try await sso.start("nosuch").reply.errorCode == "sso_not_configured")
            _ = try await sso.fixture.createTenant("plain")
            #expect(try await sso.start("plain").reply.errorCode == "sso_not_configured")
        }
    }

    @Test("a provider that is down, or that accepts connections and never answers, fails fast with a clear error")
    func providerDown() async throws {
        var configuration = PortalConfiguration()
        configuration.singleSignOn = .init(timeout: .seconds(2))
        let silent = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in channel.eventLoop.makeSucceededVoidFuture() }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { silent.close(promise: nil) }
        let closedPort = try MockOpenIDProvider.freePort()
        try await PortalFixture.run(configuration) { fixture, client in
            let sso = try await SSOHarness.make(fixture, client, provider: .openIDConnect(issuer: "http://127.0.0.1:\(closedPort)"))
            let down = try await sso.start()
            #expect(down.reply.status == .badGateway)
            #expect(down.reply.errorCode == "sso_provider_unavailable")

            try await fixture.platform.platform.organizations.setSSO(
                of: "Contoso", provider: .openIDConnect(issuer: "http://127.0.0.1:\(silent.localAddress!.port!)"),
                clientID: SSOHarness.clientID, clientSecret: nil, allowedDomains: ["contoso.com"])
            let clock = ContinuousClock()
            let began = clock.now
            let hanging = try await sso.start()
            #expect(hanging.reply.errorCode == "sso_provider_unavailable")
            #expect(hanging.reply.errorMessage?.contains("no answer in time") == true, "\(hanging.reply.json)")
            #expect(clock.now - began < .seconds(6))
        }
    }

    /// Nothing may load or run on the page but its one inline stylesheet, named by its hash.
    static func expectStyleOnlyPolicy(_ policy: String?, of page: String) {
        let style = page.components(separatedBy: "<style>").dropFirst().first?.components(separatedBy: "</style>").first ?? ""
        let hash = Data(SHA256.hash(data: Data(style.utf8))).base64EncodedString()
        #expect(!style.isEmpty && policy == "default-src 'none'; style-src 'sha256-\(hash)'", "\(policy ?? "no policy")")
    }

    @Test("browsers get a readable page, with no script, no referrer, and the same status")
    func htmlPages() async throws {
        try await Self.run { sso, _, _ in
            let response = try await sso.client.client.executeRequest(
                uri: "/t/acme/api/sso/callback?state=nope", method: .get, headers: [.accept: "text/html"], body: nil)
            #expect(response.status == .badRequest)
            #expect(response.headers[.contentType] == "text/html; charset=utf-8")
            let page = String(buffer: response.body)
            Self.expectStyleOnlyPolicy(response.headers[.contentSecurityPolicy], of: page)
            #expect(page.contains("Sign-in failed") && page.contains("Start the sign-in again"))
        }
    }
}
