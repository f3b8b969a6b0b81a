import Foundation
import HTTPTypes
import Permissions
import PQ
import TenantPlatform
import Testing

/// A tenant `acme` in organization Contoso whose single sign-on goes to `issuer`, and the
/// steps of a sign-in as a browser takes them.
struct SSOHarness {
    let fixture: PortalFixture
    let client: PortalClient
    static let clientID = "pgperm-tests"
    static let clientSecret = "the client secret"

    /// Creates the tenant and organization and sets the organization's provider.
    static func make(_ fixture: PortalFixture, _ client: PortalClient, provider: SSOProvider, clientID: String = clientID,
                     domains: [String] = ["contoso.com"], justInTime: JustInTimeMembership = .off) async throws -> SSOHarness {
        _ = try await fixture.createTenant("acme")
        let organizations = fixture.platform.platform.organizations
        try await organizations.create(name: "Contoso", adminEmail: "it@contoso.com")
        try await organizations.assign(tenant: "acme", to: "Contoso")
        try await organizations.setSSO(of: "Contoso", provider: provider, clientID: clientID, clientSecret: clientSecret,
                                       allowedDomains: domains, justInTime: justInTime)
        return SSOHarness(fixture: fixture, client: client)
    }

    /// `GET /t/{slug}/api/sso/start`; the provider's authorization URL and its parameters.
    func start(_ slug: String = "acme", email: String? = "ada@contoso.com", returnTo: String? = nil)
        async throws -> (reply: PortalClient.Reply, url: String, query: [String: String]) {
        var items: [URLQueryItem] = []
        if let email { items.append(URLQueryItem(name: "email", value: email)) }
        if let returnTo { items.append(URLQueryItem(name: "return_to", value: returnTo)) }
        var components = URLComponents(string: "/t/\(slug)/api/sso/start")!
        components.queryItems = items.isEmpty ? nil : items
        let reply = try await client.get(components.string!)
        let url = reply.headers[.location] ?? ""
        return (reply, url, Self.query(of: url))
    }

    /// Follows the provider's redirect back to our callback, as the browser would.
    func callback(_ redirect: URL, slug: String = "acme") async throws -> PortalClient.Reply {
        let components = URLComponents(url: redirect, resolvingAgainstBaseURL: false)!
        #expect(components.path == "/t/\(slug)/api/sso/callback")
        return try await client.get(components.path + "?" + (components.percentEncodedQuery ?? ""))
    }

    /// A callback with the query given (a made-up or replayed one).
    func callback(query: [String: String], slug: String = "acme") async throws -> PortalClient.Reply {
        var components = URLComponents(string: "/t/\(slug)/api/sso/callback")!
        components.queryItems = query.map { URLQueryItem(name: $0.key, value: $0.value) }
        return try await client.get(components.string!)
    }

    static func query(of url: String) -> [String: String] {
        let items = URLComponents(string: url)?.queryItems ?? []
        return Dictionary(items.map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { first, _ in first })
    }

    // MARK: - The tenant's database

    func tenantSQL<T: Sendable>(_ slug: String = "acme", _ body: @Sendable (Connection, AuthClient, TenantID) async throws -> T) async throws -> T {
        try await fixture.platform.withTenantConnection(slug) { connection in
            let tenant = try await connection.query("SELECT tenant_id FROM auth.tenant WHERE code = $1", [slug]).scalar(TenantID.self)
            return try await body(connection, AuthClient(connection), tenant)
        }
    }

    /// A member of the tenant (acme unless named) with the email given.
    @discardableResult
    func member(_ username: String, email: String, in slug: String = "acme") async throws -> UserID {
        try await tenantSQL(slug) { _, auth, tenant in
            let user = try await auth.createUser(username: username, email: email)
            try await auth.addUserToTenant(tenant, user: user)
            return user
        }
    }

    /// The platform audit log's SSO rows, newest last.
    func platformAudit() async throws -> [(action: String, details: String)] {
        try await fixture.platform.platform.master.query("""
            SELECT action, details::text FROM platform.audit_log WHERE action LIKE 'sso.%' ORDER BY audit_id
            """).rows.map { (try $0.decode(String.self, at: 0), try $0.decode(String.self, at: 1)) }
    }
}
