import Foundation
import PlatformTestSupport
import PQ
import TenantPlatform
import Testing

@Suite("Platform: SSO providers, domains and sign-ins in progress")
struct OrganizationSSOProviderTests {
    static let client = "11111111-2222-4333-8444-555555555555"

    @Test("an OpenID Connect provider is saved by its issuer, with just-in-time membership; the rest is kept when not given")
    func genericProvider() async throws {
        try await PlatformFixture.run { f in
            let organizations = f.platform.organizations
            try await organizations.create(name: "Acme", adminEmail: "it@acme.example")
            let saved = try await organizations.setSSO(
                of: "Acme", provider: .openIDConnect(issuer: "https://id.acme.example/realms/acme/"), clientID: "portal",
                clientSecret: "s", allowedDomains: ["acme.example"], justInTime: JustInTimeMembership(enabled: true, permSet: "USER"))
            #expect(saved.provider == .openIDConnect(issuer: "https://id.acme.example/realms/acme"))
            #expect(saved.entraTenantID == nil)
            #expect(saved.justInTime == JustInTimeMembership(enabled: true, permSet: "USER"))
            // The Entra form keeps just-in-time as it was.
            let entra = try await organizations.setSSO(of: "Acme", entraTenantID: UUID().uuidString, clientID: Self.client,
                                                       clientSecret: nil, allowedDomains: ["acme.example"])
            #expect(entra.justInTime.enabled && entra.justInTime.permSet == "USER")
            let off = try await organizations.setSSO(of: "Acme", provider: entra.provider, clientID: Self.client, clientSecret: nil,
                                                     allowedDomains: ["acme.example"], justInTime: .off)
            #expect(off.justInTime == .off)
            #expect(try await f.auditActions().filter { $0 == "organization.sso_set" }.count == 3)
        }
    }

    @Test("bad issuers, client ids, set codes, and a generic provider without domains are refused")
    func invalidSettings() async throws {
        try await PlatformFixture.run { f in
            let organizations = f.platform.organizations
            try await organizations.create(name: "Acme", adminEmail: "it@acme.example")
            for issuer in ["http://id.acme.example", "https://id.acme.example?x=1", "https://id.acme.example#f", "ftp://x.y", "not a url", ""] {
                #expect(await platformErrorKind {
                    try await organizations.setSSO(of: "Acme", provider: .openIDConnect(issuer: issuer), clientID: "c",
                                                   clientSecret: "s", allowedDomains: ["acme.example"])
                } == .invalidSSOSettings, "\(issuer)")
            }
            #expect(await platformErrorKind {
                try await organizations.setSSO(of: "Acme", provider: .openIDConnect(issuer: "https://id.acme.example"),
                                               clientID: "c", clientSecret: "s", allowedDomains: [])
            } == .invalidSSOSettings)
            #expect(await platformErrorKind {
                try await organizations.setSSO(of: "Acme", provider: .openIDConnect(issuer: "https://id.acme.example"),
                                               clientID: "has space", clientSecret: "s", allowedDomains: ["acme.example"])
            } == .invalidSSOSettings)
            #expect(await platformErrorKind {
                try await organizations.setSSO(of: "Acme", provider: .entraID(tenantID: "common"), clientID: Self.client,
                                               clientSecret: "s", allowedDomains: [])
            } == .invalidSSOSettings, "common is not a directory")
            #expect(await platformErrorKind {
                try await organizations.setSSO(of: "Acme", provider: .openIDConnect(issuer: "https://id.acme.example"), clientID: "c",
                                               clientSecret: "s", allowedDomains: ["acme.example"],
                                               justInTime: JustInTimeMembership(enabled: true, permSet: "no spaces"))
            } == .invalidSSOSettings)
            #expect(try await organizations.sso(of: "Acme") == nil, "nothing was saved")
            // Loopback http is allowed: a test provider on this machine.
            try await organizations.setSSO(of: "Acme", provider: .openIDConnect(issuer: "http://127.0.0.1:9400"), clientID: "c",
                                           clientSecret: "s", allowedDomains: ["acme.example"])
        }
    }

    @Test("a domain belongs to one organization: a second claim is refused and changes nothing; removing SSO frees it")
    func domainClaimedOnce() async throws {
        try await PlatformFixture.run { f in
            let organizations = f.platform.organizations
            try await organizations.create(name: "Acme", adminEmail: "it@acme.example")
            try await organizations.create(name: "Globex", adminEmail: "it@globex.example")
            try await organizations.setSSO(of: "Acme", entraTenantID: UUID().uuidString, clientID: Self.client, clientSecret: "a",
                                           allowedDomains: ["acme.example", "shared.example"])
            try await organizations.setSSO(of: "Globex", entraTenantID: UUID().uuidString, clientID: Self.client, clientSecret: "g",
                                           allowedDomains: ["globex.example"])
            do {
                try await organizations.setSSO(of: "Globex", entraTenantID: UUID().uuidString, clientID: Self.client, clientSecret: nil,
                                               allowedDomains: ["globex.example", "Shared.Example"])
                Issue.record("a second claim of shared.example was accepted")
            } catch let error as PlatformError {
                #expect(error.code == .domainTaken)
                #expect(error.message.contains("shared.example") && error.message.contains("Acme"))
            }
            #expect(try await organizations.sso(of: "Globex")?.allowedDomains == ["globex.example"])
            #expect(try await organizations.organization(forEmail: "bob@shared.example")?.name == "Acme")
            // The database refuses it too, whatever writes it.
            await #expect(throws: PostgresError.self) {
                try await f.platform.master.query("""
                    INSERT INTO platform.organization_sso_domain (domain, organization_id)
                    SELECT 'acme.example', organization_id FROM platform.organization WHERE name = 'Globex'
                    """)
            }
            // Shrinking the list frees a domain for another organization.
            try await organizations.setSSO(of: "Acme", entraTenantID: UUID().uuidString, clientID: Self.client, clientSecret: nil,
                                           allowedDomains: ["acme.example"])
            try await organizations.setSSO(of: "Globex", entraTenantID: UUID().uuidString, clientID: Self.client, clientSecret: nil,
                                           allowedDomains: ["globex.example", "shared.example"])
            try await organizations.removeSSO(of: "Acme")
            #expect(try await organizations.organization(forEmail: "x@acme.example") == nil)
            #expect(try await organizations.organization(forEmail: "x@shared.example")?.name == "Globex")
        }
    }

    @Test("a sign-in in progress is used once, by the browser that began it, within ten minutes")
    func loginStore() async throws {
        try await PlatformFixture.run { f in
            let organization = try await f.platform.organizations.create(name: "Acme", adminEmail: "it@acme.example")
            try await f.provisioner.create(name: "Acme", slug: "acme")
            let tenant = try await f.platform.directory.require(slug: "acme").id
            let logins = f.platform.ssoLogins
            let begun = try await logins.begin(organization: organization.id, tenant: tenant, redirectURI: "https://x/cb", returnTo: "/app/")
            #expect(begun.state != begun.browserBinding && begun.login.nonce != begun.login.codeVerifier)
            #expect(try await logins.consume(state: begun.state, browserBinding: "another browser") == nil)
            #expect(try await logins.consume(state: begun.state, browserBinding: begun.browserBinding) == nil, "used up by the failed try")

            let second = try await logins.begin(organization: organization.id, tenant: tenant, redirectURI: "https://x/cb", returnTo: nil)
            #expect(try await logins.consume(state: second.state, browserBinding: second.browserBinding) == second.login)
            #expect(try await logins.consume(state: second.state, browserBinding: second.browserBinding) == nil)

            let third = try await logins.begin(organization: organization.id, tenant: tenant, redirectURI: "https://x/cb", returnTo: nil)
            try await f.platform.master.query("UPDATE platform.sso_login SET expires_at = now() - interval '1 second'")
            #expect(try await logins.consume(state: third.state, browserBinding: third.browserBinding) == nil)
            #expect(try await logins.consume(state: "", browserBinding: nil) == nil)
            #expect(try await logins.consume(state: String(repeating: "x", count: 10_000), browserBinding: nil) == nil)
            _ = try await logins.begin(organization: organization.id, tenant: tenant, redirectURI: "https://x/cb", returnTo: nil)
            try await f.platform.master.query("UPDATE platform.sso_login SET expires_at = now() - interval '1 second'")
            try await logins.sweep()
            #expect(try await f.platform.master.query("SELECT count(*) FROM platform.sso_login").scalar(Int.self) == 0)
        }
    }
}
