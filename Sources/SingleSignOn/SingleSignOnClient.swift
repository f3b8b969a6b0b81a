import AsyncHTTPClient
import Foundation
import TenantPlatform

/// OpenID Connect sign-in for the tenants of an organization: the authorization code flow
/// with PKCE (S256), `state` and `nonce`, `response_mode=query`, against Microsoft Entra ID
/// or any provider with a discovery document.
///
/// ```swift
/// let sso = SingleSignOnClient(platform: platform)
/// let start = try await sso.start(tenant: tenant, email: "ada@contoso.com", redirectURI: callback, returnTo: nil)
/// // redirect the browser to start.url; set start.browserBinding in a SameSite=Lax cookie
/// let signedIn = try await sso.finish(tenant: tenant, callback: query, browserBinding: cookie)
/// ```
/// It says who the provider vouched for; whom that signs in as in the tenant is the
/// caller's business (identities in the auth schema).
public struct SingleSignOnClient: Sendable {
    public struct Configuration: Sendable {
        /// The deadline of every call to a provider.
        public var timeout: Duration
        /// The least time between two fetches of a key set for unknown key ids.
        public var keyRefetchInterval: Duration
        /// Microsoft's sign-in host; tests point it at a local provider.
        public var entraAuthority: String

        public init(timeout: Duration = .seconds(10), keyRefetchInterval: Duration = .seconds(60),
                    entraAuthority: String = "https://login.microsoftonline.com") {
            self.timeout = timeout
            self.keyRefetchInterval = keyRefetchInterval
            self.entraAuthority = entraAuthority
        }
    }

    /// What a callback established: the person, the organization's settings (for
    /// just-in-time membership), and where the browser asked to go.
    public struct SignedIn: Sendable {
        public let identity: VerifiedIdentity
        /// The verified email, lower-cased domain.
        public let email: String
        public let organization: Organization
        public let settings: SSOSettings
        public let returnTo: String?
    }

    /// Where to send the browser, and the value of the cookie binding the sign-in to it.
    public struct Start: Sendable {
        public let url: String
        public let browserBinding: String
    }

    let platform: Platform
    let configuration: Configuration
    let cache: ProviderCache

    /// The client of every call to a provider: redirects are not followed (an endpoint that
    /// moves, or sends to plain http, is a failure to see, not to follow). It lives as long as
    /// the process, like `HTTPClient.shared`.
    public static let providerClient = HTTPClient(
        eventLoopGroup: HTTPClient.defaultEventLoopGroup,
        configuration: HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5))))

    public init(platform: Platform, configuration: Configuration = Configuration(), httpClient: HTTPClient = providerClient) {
        self.platform = platform
        self.configuration = configuration
        cache = ProviderCache(http: ProviderHTTP(client: httpClient, timeout: configuration.timeout),
                              refetchInterval: configuration.keyRefetchInterval)
    }

    // MARK: - Start

    /// Begins a sign-in to `tenant` through its organization's provider.
    ///
    /// - Parameters:
    ///   - email: what the person typed (home-realm discovery): its domain must be one of the
    ///     organization's, and is passed on as `login_hint` (and `domain_hint` for Entra).
    ///   - redirectURI: this server's callback URL for the tenant, as registered at the provider.
    ///   - returnTo: a path of this server to go to once signed in.
    /// - Throws: ``SSOFailure`` `.notConfigured`, `.domainNotAllowed`, `.providerUnavailable`;
    ///   ``PlatformError`` `.invalidEmail`.
    public func start(tenant: TenantHandle, email: String?, redirectURI: String, returnTo: String?) async throws -> Start {
        let (organization, settings) = try await settings(of: tenant)
        var hint: (email: String, domain: String)?
        if let email {
            let address = try EmailAddress.normalized(email)
            let domain = Self.domain(of: address)
            try await requireAllowed(domain: domain, organization: organization, settings: settings)
            hint = (address, domain)
        }
        let profile = ProviderProfile(settings.provider, entraAuthority: configuration.entraAuthority)
        let metadata = try await cache.metadata(for: profile)
        let begun = try await platform.ssoLogins.begin(organization: organization.id, tenant: tenant.id,
                                                       redirectURI: redirectURI, returnTo: returnTo)
        var fields = [
            ("response_type", "code"), ("response_mode", "query"), ("client_id", settings.clientID),
            ("redirect_uri", redirectURI), ("scope", "openid profile email"), ("state", begun.state),
            ("nonce", begun.login.nonce), ("code_challenge", begun.codeChallenge), ("code_challenge_method", "S256"),
        ]
        if let hint {
            fields.append(("login_hint", hint.email))
            if profile.isEntra { fields.append(("domain_hint", hint.domain)) }
        }
        let separator = metadata.authorizationEndpoint.contains("?") ? "&" : "?"
        return Start(url: metadata.authorizationEndpoint + separator + ProviderHTTP.formEncoded(fields),
                     browserBinding: begun.browserBinding)
    }

    // MARK: - Callback

    /// Completes a sign-in from the provider's redirect: the state (once, from the browser
    /// that began it, within ten minutes), the code exchange with the PKCE verifier and the
    /// client secret, every check of the ID token, then the verified email and its domain.
    ///
    /// - Parameter callback: the callback's query parameters.
    /// - Throws: ``SSOFailure``: `.providerRefused` (an `error` from the provider),
    ///   `.invalidState`, `.providerUnavailable`, `.invalidToken`, `.emailNotVerified`,
    ///   `.domainNotAllowed`, `.notConfigured`.
    public func finish(tenant: TenantHandle, callback: [String: String], browserBinding: String?) async throws -> SignedIn {
        let state = callback["state"] ?? ""
        if let error = callback["error"] {
            // The attempt is over: its state must not serve again.
            _ = try await platform.ssoLogins.consume(state: state, browserBinding: browserBinding)
            let description = callback["error_description"].map { ": " + Self.printable($0, limit: 300) } ?? ""
            throw SSOFailure(.providerRefused, "the identity provider refused the sign-in (\(Self.printable(error, limit: 64))\(description))",
                             hint: error == "access_denied" ? "Sign in again and accept, or ask your administrator for access to the application."
                                                            : "Sign in again; if it keeps failing, ask your administrator.")
        }
        guard let login = try await platform.ssoLogins.consume(state: state, browserBinding: browserBinding),
              login.tenantID == tenant.id else {
            throw SSOFailure(.invalidState, "this sign-in link is unknown, used already, expired, or was begun in another browser",
                             hint: "Start the sign-in again from the same browser; it must complete within 10 minutes.")
        }
        guard let code = callback["code"], !code.isEmpty, code.utf8.count <= 4096 else {
            throw SSOFailure(.providerRefused, "the identity provider returned no authorization code", hint: "Start the sign-in again.")
        }
        guard tenant.record.organizationID == login.organizationID else {
            throw SSOFailure(.notConfigured, "tenant '\(tenant.slug)' left the organization during the sign-in", hint: "Start the sign-in again.")
        }
        let (organization, settings) = try await platform.organizations.ssoForSignIn(of: login.organizationID)
        let profile = ProviderProfile(settings.provider, entraAuthority: configuration.entraAuthority)
        let metadata = try await cache.metadata(for: profile)
        let idToken = try await exchange(code: code, login: login, settings: settings, metadata: metadata)
        let identity = try await IDTokenVerifier(cache: cache).verify(
            idToken, metadata: metadata, clientID: settings.clientID, nonce: login.nonce, isEntra: profile.isEntra)
        guard let email = identity.email, identity.emailVerified, let address = try? EmailAddress.normalized(email) else {
            throw SSOFailure(.emailNotVerified, "the identity provider did not vouch for an email address of this account",
                             hint: profile.isEntra
                                ? "The app registration must send the optional claims email and xms_edov, and the email's domain must be verified in the directory."
                                : "The account's email must be verified at the identity provider.")
        }
        try await requireAllowed(domain: Self.domain(of: address), organization: organization, settings: settings)
        return SignedIn(identity: identity, email: address, organization: organization, settings: settings, returnTo: login.returnTo)
    }

    /// Trades the code for tokens at the token endpoint; returns the ID token.
    private func exchange(code: String, login: SSOLogin, settings: SSOSettings, metadata: ProviderMetadata) async throws -> String {
        let (status, body) = try await ProviderHTTP(client: cache.http.client, timeout: configuration.timeout).postForm(
            metadata.tokenEndpoint,
            [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", login.redirectURI),
             ("client_id", settings.clientID), ("client_secret", settings.clientSecret ?? ""), ("code_verifier", login.codeVerifier)],
            what: "token endpoint")
        let answer = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
        if let error = answer?["error"] as? String {
            throw SSOFailure(.providerRefused, "the identity provider refused the authorization code (\(Self.printable(error, limit: 64)))",
                             hint: "Start the sign-in again; a code works once, for a few minutes. If it keeps failing, check the client secret.")
        }
        guard status == .ok, let idToken = answer?["id_token"] as? String else {
            throw SSOFailure(.providerUnavailable, "the identity provider's token endpoint answered HTTP \(status.code) without an ID token",
                             hint: "Check that the application is registered for the openid scope.")
        }
        return idToken
    }

    // MARK: - Settings and domains

    private func settings(of tenant: TenantHandle) async throws -> (Organization, SSOSettings) {
        guard let organizationID = tenant.record.organizationID,
              let organization = try await platform.organizations.find(organizationID.description),
              let settings = try await platform.organizations.sso(of: organizationID.description) else {
            throw SSOFailure(.notConfigured, "tenant '\(tenant.slug)' has no single sign-on",
                             hint: "Sign in with your username and password, or ask your administrator to set up SSO for the organization.")
        }
        return (organization, settings)
    }

    /// The domain must be the organization's: one of its list, or, for an Entra
    /// organization without a list, any domain no other organization claims.
    private func requireAllowed(domain: String, organization: Organization, settings: SSOSettings) async throws {
        let allowed: Bool
        if settings.allowedDomains.isEmpty {
            let owner = try await platform.organizations.organization(forEmail: "x@" + domain)
            allowed = settings.entraTenantID != nil && (owner == nil || owner?.id == organization.id)
        } else {
            allowed = settings.allowedDomains.contains(domain)
        }
        guard allowed else {
            throw SSOFailure(.domainNotAllowed, "email addresses of \(domain) do not sign in to this organization's tenants",
                             hint: "Use your work address of \(organization.name), or ask its administrator\(organization.adminEmail.map { " (\($0))" } ?? "") to allow the domain.")
        }
    }

    static func domain(of address: String) -> String {
        String(address[address.index(after: address.lastIndex(of: "@")!)...]).lowercased()
    }

    /// Text from the provider, made safe to show and log: printable ASCII, bounded.
    static func printable(_ text: String, limit: Int) -> String {
        String(String(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7F }.map(Character.init)).prefix(limit))
    }
}
