import Hummingbird
import Logging
import SingleSignOn
import TenantPlatform

/// `GET /sso/discover?email=&return_to=`: single sign-on when the person knows their work
/// email but not their tenant's address (home-realm discovery, ``HomeRealmDiscovery``).
/// The email's domain names the organization; then:
///
/// - one tenant to offer: 302 to its `GET /t/{slug}/api/sso/start?email=…` (which goes on to
///   the provider with the email as `login_hint`);
/// - several: 200, the list (JSON, or a page of links for a browser);
/// - none: 403 `sso_not_a_member`, saying whom to ask; a domain no organization lists:
///   403 `sso_domain_not_allowed`. A browser without an email gets the form.
///
/// ## What a caller who has not signed in learns
///
/// The answer names the tenants where the email is an active member: the price of sending
/// people to the right tenant before they have proven who they are. So:
///
/// - only those tenants are listed; the organization's other tenants never are, except when
///   it allows just-in-time membership, where any person of its domains may join each of them;
/// - an address that is no one's, a deactivated user, an ended membership and a member of
///   suspended tenants only all get the one `sso_not_a_member` answer;
/// - lookups are throttled as sign-ins are (``SignInThrottle``): per email and client address,
///   plus a ceiling per client address across emails, so the list of a company's staff
///   cannot be walked quickly; each lookup costs one query per active tenant of the
///   organization, a few tenants at a time;
/// - nothing is written to the audit log: a caller who has not signed in must not be able
///   to fill it. The provider still decides who signs in; the callback checks everything again.
struct HomeRealmRoutes {
    let platform: Platform
    let throttle: SignInThrottle
    /// The ceiling per client address across emails, per window of the throttle.
    let perClientThrottle: SignInThrottle
    let logger = Logger(label: "pgperm.portal.sso")

    init(platform: Platform, throttle: SignInThrottle) {
        self.platform = platform
        self.throttle = throttle
        var perClient = throttle
        perClient.perClient = 100
        perClient.perAccount = 100
        perClientThrottle = perClient
    }

    struct RealmView: ResponseEncodable {
        struct Tenant: Encodable {
            let slug: String
            let name: String
            /// Where the sign-in to this tenant begins.
            let signIn: String
        }
        let email: String
        let organization: String
        /// Whether the tenants are offered because the organization allows just-in-time
        /// membership (the email is a member of none of them).
        let justInTime: Bool
        let tenants: [Tenant]
    }

    func register(on group: RouterGroup<PortalContext>) {
        group.get("discover") { request, context in
            try await discover(request, context)
        }
    }

    private func discover(_ request: Request, _ context: PortalContext) async throws -> Response {
        let email = request.uri.queryParameters.get("email")?.trimmingCharacters(in: .whitespaces)
        let rawReturnTo = request.uri.queryParameters.get("return_to")
        let form = SSOPage.EmailForm(action: "/sso/discover", email: email, returnTo: rawReturnTo)
        do {
            let returnTo = try TenantSSORoutes.returnTo(rawReturnTo)
            guard let email, !email.isEmpty else {
                guard SSOPage.wantsHTML(request) else {
                    throw APIError.invalidParameter("email", "is required", hint: "Send the work email: /sso/discover?email=ada@contoso.com")
                }
                return SSOPage.response(title: "Sign in with your organization",
                                        body: "Type your work email: it finds your organization and its tenants.", form: form)
            }
            try SignInFields.check("email", email, maximumLength: SignInFields.maximumEmailLength)
            let address: String
            do {
                address = try EmailAddress.normalized(email)
            } catch let error as PlatformError {
                throw APIError.invalidParameter("email", error.message, hint: "Type your work email, such as ada@contoso.com.")
            }
            try await throttle.reserve(kind: "sso_discover", account: address, client: context.clientAddress)
            try await perClientThrottle.reserve(kind: "sso_discover_client", account: context.clientAddress, client: context.clientAddress)
            return try await answer(try await find(address), returnTo: returnTo, request, context)
        } catch {
            guard SSOPage.wantsHTML(request), let failure = APIError(error) else { throw error }
            return SSOPage.response(title: "Sign in with your organization", body: failure.message + (failure.hint.map { " " + $0 } ?? ""),
                                    form: form, status: failure.status)
        }
    }

    /// The realm of a valid email, or the refusals that end discovery.
    private func find(_ email: String) async throws -> HomeRealmDiscovery.Realm {
        guard let realm = try await HomeRealmDiscovery(platform: platform).find(email: email) else {
            let domain = email.split(separator: "@").last.map(String.init) ?? email
            throw TenantSSORoutes.apiError(SSOFailure(
                .domainNotAllowed, "no organization signs in addresses of \(domain.lowercased()) with single sign-on",
                hint: "Use your work email, or sign in with your username and password at your tenant's address."))
        }
        guard !realm.tenants.isEmpty else {
            let administrator = realm.organization.adminEmail.map { "your administrator (\($0))" } ?? "an administrator of \(realm.organization.name)"
            throw TenantSSORoutes.apiError(SSOFailure(
                .notAMember, "\(realm.email) is not a member of a tenant of \(realm.organization.name)",
                hint: "Ask \(administrator) to add you, with this email address."))
        }
        return realm
    }

    private func answer(_ realm: HomeRealmDiscovery.Realm, returnTo: String?, _ request: Request,
                        _ context: PortalContext) async throws -> Response {
        let tenants = realm.tenants.map {
            RealmView.Tenant(slug: $0.slug, name: $0.name, signIn: realm.signInPath(at: $0, returnTo: returnTo))
        }
        if tenants.count == 1 {
            return Response(status: .found, headers: [.location: tenants[0].signIn])
        }
        let view = RealmView(email: realm.email, organization: realm.organization.name, justInTime: realm.justInTime,
                             tenants: tenants)
        guard SSOPage.wantsHTML(request) else { return try view.response(from: request, context: context) }
        return SSOPage.response(title: "Choose a tenant",
                                body: realm.justInTime
                                    ? "\(realm.organization.name) lets you join any of its tenants: choose one."
                                    : "\(realm.email) is a member of several tenants of \(realm.organization.name): choose one.",
                                links: tenants.map { ("\($0.name) (\($0.slug))", $0.signIn) })
    }
}
