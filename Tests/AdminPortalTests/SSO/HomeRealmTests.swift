import Foundation
import HTTPTypes
import Permissions
import PlatformTestSupport
import PQ
import TenantPlatform
import Testing

/// `GET /sso/discover`: from a work email to the organization and the tenant where it signs
/// in, against real tenant databases and, for the whole way, the real OpenID provider.
@Suite("Single sign-on: home-realm discovery")
struct HomeRealmTests {
    /// Contoso (contoso.com) with tenant acme, through the shared provider.
    static func run(justInTime: JustInTimeMembership = .off, _ body: @Sendable (SSOHarness) async throws -> Void) async throws {
        let issuer = try await MockOpenIDProvider.shared.issuer()
        try await PortalFixture.run { fixture, client in
            try await body(try await SSOHarness.make(fixture, client, provider: .openIDConnect(issuer: issuer), justInTime: justInTime))
        }
    }

    /// Another tenant of Contoso.
    static func addTenant(_ slug: String, _ sso: SSOHarness) async throws {
        _ = try await sso.fixture.createTenant(slug)
        try await sso.fixture.platform.platform.organizations.assign(tenant: slug, to: "Contoso")
    }

    static func discover(_ sso: SSOHarness, _ email: String?, returnTo: String? = nil) async throws -> PortalClient.Reply {
        var components = URLComponents(string: "/sso/discover")!
        let items = [email.map { URLQueryItem(name: "email", value: $0) }, returnTo.map { URLQueryItem(name: "return_to", value: $0) }]
        components.queryItems = items.compactMap { $0 }
        // `+` is a space in a query: what a browser's form sends for it.
        return try await sso.client.get(components.string!.replacingOccurrences(of: "+", with: "%2B"))
    }

    /// The page a browser gets.
    static func page(_ sso: SSOHarness, _ query: String) async throws -> (status: HTTPResponse.Status, html: String) {
        let response = try await sso.client.client.executeRequest(uri: "/sso/discover" + query, method: .get,
                                                                   headers: [.accept: "text/html"], body: nil)
        let html = String(buffer: response.body)
        SSOFlowTests.expectStyleOnlyPolicy(response.headers[.contentSecurityPolicy], of: html)
        return (response.status, html)
    }

    @Test("one tenant: a redirect to its sign-in with the email, which goes on to the provider and signs in")
    func oneTenant() async throws {
        try await Self.run { sso in
            let ada = try await sso.member("ada", email: "Ada@Contoso.com")
            let found = try await Self.discover(sso, "ada@CONTOSO.COM", returnTo: "/app/?tab=1")
            #expect(found.status == .found, "\(found.json)")
            let location = try #require(found.headers[.location])
            #expect(location == "/t/acme/api/sso/start?email=ada%40contoso.com&return_to=%2Fapp%2F%3Ftab%3D1")

            let start = try await sso.client.get(location)
            #expect(start.status == .found)
            let authorize = try #require(start.headers[.location])
            #expect(SSOHarness.query(of: authorize)["login_hint"] == "ada@contoso.com")
            let sub = try await SSOFlowTests.person(MockOpenIDProvider.shared)
            let signedIn = try await sso.callback(try await MockOpenIDProvider.shared.authorize(authorize, as: sub))
            #expect(signedIn.status == .ok, "\(signedIn.json)")
            #expect(signedIn.json["user_id"] as? String == ada.description)
            #expect(signedIn.json["return_to"] as? String == "/app/?tab=1")
        }
    }

    @Test("several tenants: the list of those where the email is an active member, and only those")
    func severalTenants() async throws {
        try await Self.run { sso in
            for slug in ["beta", "gamma", "paused", "left"] { try await Self.addTenant(slug, sso) }
            _ = try await sso.fixture.createTenant("elsewhere")  // in no organization
            try await sso.member("ada", email: "ada@contoso.com")
            try await sso.member("ada", email: "ADA@contoso.com", in: "beta")
            try await sso.member("ada", email: "ada@contoso.com", in: "paused")
            try await sso.member("ada", email: "ada@contoso.com", in: "elsewhere")
            let left = try await sso.member("ada", email: "ada@contoso.com", in: "left")
            try await sso.tenantSQL("left") { _, auth, tenant in try await auth.removeUserFromTenant(tenant, user: left) }
            try await sso.member("bob", email: "bob@contoso.com", in: "gamma")
            try await sso.fixture.platform.lifecycle.suspend(slug: "paused")

            let reply = try await Self.discover(sso, "ada@contoso.com")
            #expect(reply.status == .ok)
            #expect(reply.json["organization"] as? String == "Contoso")
            #expect(reply.json["email"] as? String == "ada@contoso.com")
            #expect(reply.json["just_in_time"] as? Bool == false)
            let tenants = reply.list("tenants")
            #expect(tenants.map { $0["slug"] as? String } == ["acme", "beta"])
            #expect(tenants.map { $0["sign_in"] as? String } == ["/t/acme/api/sso/start?email=ada%40contoso.com",
                                                                  "/t/beta/api/sso/start?email=ada%40contoso.com"])
            #expect(try await sso.client.get(tenants[1]["sign_in"] as! String).status == .found, "each link begins a sign-in")

            // A browser gets the same list as links.
            let page = try await Self.page(sso, "?email=ada%40contoso.com")
            #expect(page.status == .ok)
            #expect(page.html.contains("Choose a tenant") && page.html.contains("href=\"/t/beta/api/sso/start?email=ada%40contoso.com\""))
            #expect(!page.html.contains("gamma") && !page.html.contains("paused"))

            // Two members of one tenant sharing the email still point there: the sign-in says whom to ask.
            try await sso.member("ada2", email: "ada@contoso.com", in: "gamma")
            try await sso.member("ada3", email: "ada@contoso.com", in: "gamma")
            #expect(try await Self.discover(sso, "ada@contoso.com").list("tenants").count == 3)
        }
    }

    @Test("a member of no tenant: one refusal, saying whom to ask, whether the address is unknown, deactivated, removed or suspended")
    func notAMember() async throws {
        try await Self.run { sso in
            try await Self.addTenant("paused", sso)
            let gone = try await sso.member("gone", email: "gone@contoso.com")
            try await sso.tenantSQL { _, auth, _ in try await auth.deactivateUser(gone) }
            let left = try await sso.member("left", email: "left@contoso.com")
            try await sso.tenantSQL { _, auth, tenant in try await auth.removeUserFromTenant(tenant, user: left) }
            try await sso.member("held", email: "held@contoso.com", in: "paused")
            try await sso.fixture.platform.lifecycle.suspend(slug: "paused")

            var answers: [String] = []
            for name in ["nobody", "gone", "left", "held"] {
                let reply = try await Self.discover(sso, "\(name)@contoso.com")
                #expect(reply.status == .forbidden)
                #expect(reply.errorCode == "sso_not_a_member")
                #expect(reply.errorMessage == "\(name)@contoso.com is not a member of a tenant of Contoso")
                #expect((reply.error["hint"] as? String)?.contains("it@contoso.com") == true)
                answers.append(String(decoding: reply.body, as: UTF8.self).replacingOccurrences(of: name, with: "X"))
            }
            #expect(Set(answers).count == 1, "the same answer, word for word: \(answers)")
            let page = try await Self.page(sso, "?email=nobody%40contoso.com")
            #expect(page.status == .forbidden)
            #expect(page.html.contains("it@contoso.com") && page.html.contains("name=\"email\""), "the refusal, and the form again")
            #expect(try await sso.platformAudit().isEmpty, "a lookup writes nothing to the audit log")
        }
    }

    @Test("just-in-time membership: someone of the domain who is a member nowhere is offered the organization's active tenants")
    func justInTime() async throws {
        try await Self.run(justInTime: JustInTimeMembership(enabled: true, permSet: "USER")) { sso in
            let alone = try await Self.discover(sso, "grace@contoso.com")
            #expect(alone.status == .found)
            #expect(alone.headers[.location] == "/t/acme/api/sso/start?email=grace%40contoso.com")

            try await Self.addTenant("beta", sso)
            try await Self.addTenant("paused", sso)
            try await sso.fixture.platform.lifecycle.suspend(slug: "paused")
            let offered = try await Self.discover(sso, "grace@contoso.com")
            #expect(offered.status == .ok)
            #expect(offered.json["just_in_time"] as? Bool == true)
            #expect(offered.list("tenants").map { $0["slug"] as? String } == ["acme", "beta"])

            // A member somewhere is sent to their tenants only.
            try await sso.member("grace", email: "grace@contoso.com", in: "beta")
            let member = try await Self.discover(sso, "grace@contoso.com")
            #expect(member.status == .found)
            #expect(member.headers[.location] == "/t/beta/api/sso/start?email=grace%40contoso.com")
        }
    }

    @Test("a tenant whose database cannot be asked is skipped; when nothing else is found, the answer is a failure, not 'not a member'")
    func unreachableTenant() async throws {
        try await Self.run { sso in
            try await Self.addTenant("beta", sso)
            try await sso.member("ada", email: "ada@contoso.com")
            try await sso.member("ada", email: "ada@contoso.com", in: "beta")
            try await sso.member("bob", email: "bob@contoso.com", in: "beta")
            let beta = try await sso.fixture.platform.platform.directory.require(slug: "beta")
            _ = try await sso.fixture.platform.strings("ALTER DATABASE \"\(beta.databaseName)\" ALLOW_CONNECTIONS false")
            await sso.fixture.platform.platform.connections.closePool(tenant: beta.id)

            let ada = try await Self.discover(sso, "ada@contoso.com")
            #expect(ada.status == .found, "acme still answers")
            #expect(ada.headers[.location] == "/t/acme/api/sso/start?email=ada%40contoso.com")
            let bob = try await Self.discover(sso, "bob@contoso.com")
            #expect(bob.status.code >= 500, "\(bob.json)")
            #expect(bob.errorCode != "sso_not_a_member", "nobody could say bob is not a member")
        }
    }

    @Test("a domain names one organization: another cannot claim it, and discovery keeps finding the first")
    func oneOrganizationPerDomain() async throws {
        try await Self.run { sso in
            try await sso.member("ada", email: "ada@contoso.com")
            let organizations = sso.fixture.platform.platform.organizations
            try await organizations.create(name: "Fabrikam", adminEmail: "it@fabrikam.com")
            await #expect(throws: PlatformError.self) {
                try await organizations.setSSO(of: "Fabrikam", provider: .openIDConnect(issuer: "https://id.fabrikam.com"),
                                               clientID: "x", clientSecret: "y", allowedDomains: ["fabrikam.com", "Contoso.com"])
            }
            do {
                try await sso.fixture.platform.platform.master.query(
                    "INSERT INTO platform.organization_sso_domain (domain, organization_id) SELECT 'contoso.com', organization_id FROM platform.organization WHERE name = 'Fabrikam'")
                Issue.record("the master database let a second organization claim contoso.com")
            } catch let error as PostgresError {
                #expect(error.code == .uniqueViolation)
            }
            #expect(try await Self.discover(sso, "ada@contoso.com").headers[.location] == "/t/acme/api/sso/start?email=ada%40contoso.com")
        }
    }

    @Test("bad input: no email, a malformed or oversized one, a foreign return_to, an unknown domain; a browser gets the form")
    func badInput() async throws {
        try await Self.run { sso in
            let missing = try await Self.discover(sso, nil)
            #expect(missing.status == .badRequest)
            #expect(missing.errorCode == "invalid_parameter")
            for email in ["not an email", "ada@", "@contoso.com", "a@b@contoso.com", "ada@contoso..com"] {
                let reply = try await Self.discover(sso, email)
                #expect(reply.status == .badRequest, "\(email)")
                #expect(reply.errorCode == "invalid_parameter", "\(email)")
            }
            let nul = try await Self.discover(sso, "ada\u{0}@contoso.com")
            #expect(nul.status == .badRequest)
            #expect(nul.errorCode == "invalid_text")
            let huge = try await Self.discover(sso, String(repeating: "a", count: 300) + "@contoso.com")
            #expect(huge.status == .badRequest)
            for returnTo in ["//evil.example/", "https://evil.example/", "/\\evil.example"] {
                #expect(try await Self.discover(sso, "ada@contoso.com", returnTo: returnTo).errorCode == "invalid_parameter")
            }
            let unknown = try await Self.discover(sso, "ada@fabrikam.example")
            #expect(unknown.status == .forbidden)
            #expect(unknown.errorCode == "sso_domain_not_allowed")
            #expect(unknown.errorMessage?.contains("fabrikam.example") == true)

            let form = try await Self.page(sso, "?return_to=%2Fapp%2F")
            #expect(form.status == .ok)
            #expect(form.html.contains("<form method=\"get\" action=\"/sso/discover\">"))
            #expect(form.html.contains("name=\"return_to\" value=\"/app/\""))
            let escaped = try await Self.page(sso, "?email=%3Cscript%3E")
            #expect(escaped.status == .badRequest)
            #expect(!escaped.html.contains("<script>") && escaped.html.contains("&lt;script&gt;"))
        }
    }

    @Test("lookups are throttled like sign-ins: per email, and per client address across emails")
    func throttled() async throws {
        try await Self.run { sso in
            for _ in 0..<10 { #expect(try await Self.discover(sso, "eve@contoso.com").status == .forbidden) }
            let limited = try await Self.discover(sso, "eve@contoso.com")
            #expect(limited.status == .tooManyRequests)
            #expect(limited.errorCode == "too_many_attempts")
            #expect(try await Self.discover(sso, "EVE@contoso.com").status == .tooManyRequests, "the same address in other case")

            // Walking many addresses from one client: 100 lookups, then 429.
            for index in 0..<90 { #expect(try await Self.discover(sso, "x\(index)@contoso.com").status == .forbidden) }
            #expect(try await Self.discover(sso, "last@contoso.com").status == .tooManyRequests)
        }
    }
}
