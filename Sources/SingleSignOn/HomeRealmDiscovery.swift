import Logging
import Permissions
import TenantPlatform

/// Home-realm discovery before any tenant is known: an email's domain names the
/// organization (a domain belongs to one organization at most: the primary key of
/// `platform.organization_sso_domain`), and the organization's active tenants are looked
/// at, in each one's own database, for an active member with that email.
///
/// ```swift
/// if let realm = try await HomeRealmDiscovery(platform: platform).find(email: "ada@contoso.com") {
///     realm.tenants  // where she may sign in: her tenants, or all of them under just-in-time membership
/// }
/// ```
///
/// It tells whoever asks which tenants an email is a member of; the portal route throttles
/// it and answers every email that is a member nowhere alike (see `HomeRealmRoutes`).
public struct HomeRealmDiscovery: Sendable {
    /// Where an email may sign in.
    public struct Realm: Sendable {
        /// The email, normalized (lower-case domain).
        public let email: String
        public let organization: Organization
        public let settings: SSOSettings
        /// The active tenants to offer, by slug: those where the email is an active member,
        /// or, when it is a member of none and the organization allows just-in-time
        /// membership, all of its active tenants; empty otherwise.
        public let tenants: [TenantHandle]
        /// Whether ``tenants`` are offered for just-in-time membership (the email is a member of none).
        public let justInTime: Bool

        /// Where the sign-in to `tenant` begins: the portal's `GET /t/{slug}/api/sso/start`,
        /// with the email (the provider's `login_hint`) and `returnTo`.
        public func signInPath(at tenant: TenantHandle, returnTo: String?) -> String {
            "/t/\(tenant.slug)/api/sso/start?" + ProviderHTTP.formEncoded([("email", email)] + (returnTo.map { [("return_to", $0)] } ?? []))
        }
    }

    /// How many tenants' databases are asked at once.
    static let width = 4
    let platform: Platform
    let logger = Logger(label: "pgperm.sso.discovery")

    public init(platform: Platform) {
        self.platform = platform
    }

    /// The organization whose single sign-on owns the email's domain, and where the email
    /// may sign in; nil when no organization lists the domain (an Entra organization that
    /// lists no domains cannot be found by email: its tenants' own sign-in page is used).
    ///
    /// - Throws: ``PlatformError`` `.invalidEmail`; a tenant database's failure when no
    ///   tenant could be found because of it (an unreachable tenant is otherwise skipped,
    ///   and logged).
    public func find(email: String) async throws -> Realm? {
        let address = try EmailAddress.normalized(email)
        guard let organization = try await platform.organizations.organization(forEmail: address),
              let settings = try await platform.organizations.sso(of: organization.id.description) else { return nil }
        let active = try await activeTenants(of: organization.id)
        let (members, failure) = await tenants(of: active, withMember: address)
        if members.isEmpty, let failure { throw failure }
        if members.isEmpty && settings.justInTime.enabled {
            return Realm(email: address, organization: organization, settings: settings, tenants: active, justInTime: true)
        }
        return Realm(email: address, organization: organization, settings: settings, tenants: members, justInTime: false)
    }

    /// The organization's active tenants whose database is seeded, by slug.
    private func activeTenants(of organization: OrganizationID) async throws -> [TenantHandle] {
        var tenants: [TenantHandle] = []
        var search = TenantSearch(status: .active, organization: .id(organization), page: 1, perPage: 500)
        while true {
            let page = try await platform.directory.search(search)
            tenants += page.tenants.filter { $0.record.authTenantID != nil }
            if page.tenants.count < search.perPage { return tenants }
            search.page += 1
        }
    }

    /// The tenants among `candidates` where `email` is an active member (a shared email
    /// counts: the sign-in then says whom to ask), asking a few databases at a time; and
    /// the first failure of a database that could not be asked.
    private func tenants(of candidates: [TenantHandle], withMember email: String) async -> ([TenantHandle], (any Error)?) {
        await withTaskGroup(of: (Int, Result<Bool, any Error>).self) { group in
            var found: [Int] = []
            var failure: (any Error)?
            var next = 0
            func collect(_ outcome: (Int, Result<Bool, any Error>)) {
                switch outcome.1 {
                case .success(true): found.append(outcome.0)
                case .success(false): break
                case .failure(let error):
                    logger.warning("home-realm discovery skipped a tenant it could not ask",
                                   metadata: ["tenant": "\(candidates[outcome.0].slug)", "error": "\(error)"])
                    failure = failure ?? error
                }
            }
            for (index, tenant) in candidates.enumerated() {
                if next >= Self.width, let outcome = await group.next() { collect(outcome) }
                next += 1
                group.addTask {
                    do { return (index, .success(try await isMember(email, of: tenant))) } catch { return (index, .failure(error)) }
                }
            }
            for await outcome in group { collect(outcome) }
            return (found.sorted().map { candidates[$0] }, failure)
        }
    }

    private func isMember(_ email: String, of tenant: TenantHandle) async throws -> Bool {
        let authTenant = try tenant.authTenantID()
        do {
            return try await platform.connections.withConnection(to: tenant.connectionTarget) { connection in
                try await AuthClient(connection).tenantMember(tenant: authTenant, email: email) != nil
            }
        } catch let error as PermissionsError where error.code == .ambiguousEmail {
            return true
        }
    }
}
