import Foundation
import Hummingbird
import Logging
import Permissions
import PQ
import SingleSignOn
import TenantPlatform

/// `/t/{slug}/api/sso/*`: single sign-on of a tenant's users through their organization's
/// identity provider (OpenID Connect; Microsoft Entra ID or any provider with discovery).
///
/// - `GET sso/start?email=&return_to=` checks the email's domain against the organization's
///   (home-realm discovery; ``HomeRealmRoutes`` sends here people who know only their email),
///   keeps state, nonce and PKCE verifier in the master database and redirects (302) to the
///   provider. It sets a short-lived cookie binding the sign-in to this browser:
///   `SameSite=Lax`, because the provider's redirect back is a cross-site navigation, on
///   which a Strict cookie is not sent.
/// - `GET sso/callback` completes it (``SingleSignOnClient/finish(tenant:callback:browserBinding:)``),
///   finds whom the identity signs in as (linked by issuer and subject; a first sign-in links
///   the active member with the same verified email, or creates one when the organization
///   allows just-in-time membership), and opens a new session (the previous one of this
///   browser is closed: no fixation). The session cookie stays HttpOnly and SameSite=Strict.
///
/// Browsers (`Accept: text/html`) get a small page, others JSON; failures keep the
/// ``APIError`` shape, are logged and written to the platform audit log, never with a token.
struct TenantSSORoutes {
    let platform: Platform
    let sessions: TenantSessions
    let configuration: PortalConfiguration
    let client: SingleSignOnClient
    let logger = Logger(label: "pgperm.portal.sso")

    init(platform: Platform, sessions: TenantSessions, configuration: PortalConfiguration) {
        self.platform = platform
        self.sessions = sessions
        self.configuration = configuration
        client = SingleSignOnClient(platform: platform, configuration: configuration.singleSignOn)
    }

    /// The cookie binding a sign-in to the browser that began it, for the ten minutes it may take.
    static let bindingCookie = "pgperm_sso"

    struct SignedInView: ResponseEncodable {
        let slug: String
        let tenantId: APIID
        let userId: APIID
        /// How the identity found its user: `identity` (linked before), `email` (linked now
        /// to the member with that email) or `just_in_time` (created now).
        let linkedBy: String
        let returnTo: String
    }

    func register(on open: RouterGroup<PortalContext>) {
        open.get("sso/start") { request, context in
            try await answering(request, context) {
                try await start(request, context)
            }
        }
        open.get("sso/callback") { request, context in
            try await answering(request, context) {
                try await callback(request, context)
            }
        }
    }

    // MARK: - Start

    private func start(_ request: Request, _ context: PortalContext) async throws -> Response {
        let slug = try context.parameters.require("slug")
        guard let tenant = context.tenant else { throw Self.unavailable }
        let email = request.uri.queryParameters.get("email")
        if let email, email.utf8.count > 320 { throw APIError.invalidParameter("email", "must be at most 320 characters") }
        let returnTo = try Self.returnTo(request.uri.queryParameters.get("return_to"))
        let begun = try await client.start(tenant: tenant, email: email, redirectURI: try callbackURL(request, slug: slug),
                                           returnTo: returnTo)
        var response = Response(status: .found)
        response.headers[.location] = begun.url
        response.setCookie(Cookie(name: Self.bindingCookie, value: begun.browserBinding,
                                  maxAge: Int(SSOLoginStore.lifetime / .seconds(1)), path: Self.cookiePath(slug),
                                  secure: configuration.secureCookies, httpOnly: true, sameSite: .lax))
        return response
    }

    // MARK: - Callback

    private func callback(_ request: Request, _ context: PortalContext) async throws -> Response {
        let slug = try context.parameters.require("slug")
        guard let tenant = context.tenant else { throw Self.unavailable }
        var query: [String: String] = [:]
        for (name, value) in request.uri.queryParameters where query[String(name)] == nil {
            query[String(name)] = String(value)
        }
        let signedIn = try await client.finish(tenant: tenant, callback: query,
                                               browserBinding: request.cookies[Self.bindingCookie]?.value)
        let (user, linkedBy) = try await member(for: signedIn, in: tenant)
        try await platform.ssoLogins.audit("sso.sign_in", tenant: slug, details: [
            "issuer": signedIn.identity.issuer, "subject": signedIn.identity.subject,
            "email_domain": String(signedIn.email.split(separator: "@").last ?? ""),
            "user_id": user.description, "linked_by": linkedBy,
        ])

        // A new session, never the one the browser brought (no fixation).
        if let previous = sessions.cookies.token(in: request, for: tenant.id) { try await sessions.store.close(previous) }
        let token = try await sessions.store.open(.tenantUser(tenantID: tenant.id, authTenant: try tenant.authTenantID(), user: user))
        let view = SignedInView(slug: slug, tenantId: APIID(tenant.id.rawValue), userId: APIID(user.rawValue),
                                linkedBy: linkedBy, returnTo: signedIn.returnTo ?? "/t/\(slug)/api/session")
        var response = SSOPage.wantsHTML(request)
            ? SSOPage.response(title: "Signed in", body: "You are signed in to \(slug).", links: [("Continue", view.returnTo)],
                               refreshTo: view.returnTo)
            : try view.response(from: request, context: context)
        response.setCookie(sessions.cookies.setting(token, for: tenant.id))
        response.setCookie(Self.clearingBinding(slug: slug, secure: configuration.secureCookies))
        return response
    }

    /// The user the identity signs in as, and how it was found; refused with whom to ask.
    private func member(for signedIn: SingleSignOnClient.SignedIn, in tenant: TenantHandle) async throws -> (UserID, String) {
        let identity = signedIn.identity
        let authTenant = try tenant.authTenantID()
        let administrator = signedIn.organization.adminEmail.map { "your administrator (\($0))" } ?? "an administrator of \(tenant.slug)"
        do {
            return try await platform.connections.withUnitOfWork(in: tenant, actor: nil) { connection in
                let auth = AuthClient(connection)
                var linkedBy = "identity"
                var user = try await auth.userByIdentity(issuer: identity.issuer, subject: identity.subject)
                if user == nil, let member = try await auth.tenantMember(tenant: authTenant, email: signedIn.email) {
                    (user, linkedBy) = (member, "email")
                }
                if user == nil {
                    guard signedIn.settings.justInTime.enabled else {
                        throw SSOFailure(.notAMember, "\(signedIn.email) is not a member of \(tenant.slug)",
                                         hint: "Ask \(administrator) to add you, with this email address.")
                    }
                    user = try await createMember(signedIn, tenant: authTenant, auth: auth)
                    linkedBy = "just_in_time"
                }
                let found = user!
                guard try await auth.checkTenantAccess(tenant: authTenant, user: found) else {
                    throw SSOFailure(.notAMember, "your account in \(tenant.slug) is deactivated",
                                     hint: "Ask \(administrator) to activate it.")
                }
                // The actor of what follows (and of the membership just made): the person signing in.
                try await auth.setActor(found)
                try await auth.linkUserIdentity(found, issuer: identity.issuer, subject: identity.subject, email: signedIn.email)
                return (found, linkedBy)
            }
        } catch let error as PermissionsError where error.code == .ambiguousEmail {
            throw SSOFailure(.notAMember, "several members of \(tenant.slug) have the email \(signedIn.email)",
                             hint: "Ask \(administrator) to link your sign-in to your account.")
        } catch let error as PermissionsError where error.code == .usernameTaken {
            throw SSOFailure(.notAMember, "an account named \(signedIn.email) exists but is not a member of \(tenant.slug)",
                             hint: "Ask \(administrator) to add it to the tenant.")
        } catch let error as PermissionsError where error.code == .unknownPermSet {
            throw SSOFailure(.notConfigured, "the permission set new members get ('\(signedIn.settings.justInTime.permSet ?? "")') is not in \(tenant.slug)",
                             hint: "Ask \(administrator) to fix the organization's just-in-time setting.")
        }
    }

    /// Just-in-time membership: a user named by the email, a member of the tenant, with the
    /// organization's default permission set.
    private func createMember(_ signedIn: SingleSignOnClient.SignedIn, tenant: TenantID, auth: AuthClient) async throws -> UserID {
        let user = try await auth.createUser(username: signedIn.email, email: signedIn.email, displayName: signedIn.identity.name)
        try await auth.setActor(user)
        try await auth.addUserToTenant(tenant, user: user)
        if let set = signedIn.settings.justInTime.permSet {
            try await auth.assignPermission(tenant: tenant, to: .user(user), grant: .permSet(set))
        }
        return user
    }

    // MARK: - Answers

    /// Runs a route; a failure is logged, audited without secrets, and answered as the
    /// ``APIError`` shape (JSON) or, for a browser, a page saying the same.
    private func answering(_ request: Request, _ context: PortalContext, _ body: () async throws -> Response) async throws -> Response {
        do {
            return try await body()
        } catch {
            let failure: APIError
            switch error {
            case let sso as SSOFailure: failure = Self.apiError(sso)
            case let platformError as PlatformError where platformError.code == .invalidEmail:
                failure = APIError.invalidParameter("email", platformError.message)
            case let api as APIError: failure = api
            default: throw error  // a server fault: logged by the error middleware
            }
            let slug = try context.parameters.require("slug")
            logger.notice("single sign-on refused", metadata: ["tenant": "\(slug)", "code": "\(failure.code)", "reason": "\(failure.message)"])
            // Audited for the tenants that exist and are active only: requests naming made-up
            // slugs must not be able to fill the audit log.
            if context.tenant != nil {
                try? await platform.ssoLogins.audit("sso.sign_in_refused", tenant: slug, details: [
                    "code": failure.code, "reason": failure.message, "route": request.uri.path])
            }
            guard SSOPage.wantsHTML(request) else { throw failure }
            var response = SSOPage.response(title: "Sign-in failed", body: failure.message + (failure.hint.map { " " + $0 } ?? ""),
                                            links: [("Start again", "/t/\(slug)/api/sso/start")], status: failure.status)
            response.setCookie(Self.clearingBinding(slug: slug, secure: configuration.secureCookies))
            return response
        }
    }

    static func apiError(_ failure: SSOFailure) -> APIError {
        let status: HTTPResponse.Status = switch failure.code {
        case .notConfigured: .notFound
        case .invalidState: .badRequest
        case .providerRefused, .invalidToken: .unauthorized
        case .providerUnavailable: .badGateway
        default: .forbidden  // domain not allowed, email not verified, not a member
        }
        return APIError(status: status, code: failure.code.description, message: failure.message, hint: failure.hint)
    }

    /// An unknown, suspended or inactive tenant: one answer for all, as before sign-in anywhere.
    static let unavailable = APIError(status: .notFound, code: SSOFailure.Code.notConfigured.description,
                                      message: "single sign-on is not available at this address",
                                      hint: "Check the address, or sign in with your username and password.")

    /// This server's callback URL for the tenant: the configured public origin, else the
    /// request's own host (which the host check has admitted).
    private func callbackURL(_ request: Request, slug: String) throws -> String {
        let origin = configuration.publicOrigins.first
            ?? "\(configuration.secureCookies ? "https" : "http")://\(request.head.authority ?? "\(configuration.host):\(configuration.port)")"
        return "\(origin)/t/\(slug)/api/sso/callback"
    }

    /// `return_to` must be a path of this server: no scheme, no host, no `//` or `/\`
    /// (browsers read both as another host), so the sign-in cannot be an open redirect.
    static func returnTo(_ value: String?) throws -> String? {
        guard let value else { return nil }
        guard value.hasPrefix("/"), !value.hasPrefix("//"), !value.hasPrefix("/\\"), value.utf8.count <= 2048,
              value.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F && $0.value != 0x5C }) else {
            throw APIError.invalidParameter("return_to", "must be a path of this server, such as /app/")
        }
        return value
    }

    static func cookiePath(_ slug: String) -> String { "/t/\(slug)/api/sso/" }

    static func clearingBinding(slug: String, secure: Bool) -> Cookie {
        Cookie(name: bindingCookie, value: "", maxAge: 0, path: cookiePath(slug), secure: secure, httpOnly: true, sameSite: .lax)
    }
}
