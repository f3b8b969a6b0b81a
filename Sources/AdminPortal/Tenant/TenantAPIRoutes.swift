import Hummingbird
import Permissions
import PQ
import TenantPlatform

/// `/t/{slug}/api/*`: a tenant's application users sign in with their username and
/// password (`auth.verify_user_password`, with its lockout) and ask about their own
/// permissions. Every call runs in the tenant's own database, through its pool, as its
/// own role: no query of one tenant can reach another's data.
///
/// Sessions belong to the tenant's id: the cookie is named after it and set at `/t/`
/// (``TenantSessionCookies``), so a rename keeps users signed in under the new slug, and
/// the old slug answers 404 to them (``TenantSessions``).
struct TenantAPIRoutes {
    let connections: TenantConnectionManager
    let sessions: TenantSessions
    let throttle: SignInThrottle
    let work: TenantWork
    let proofs: CredentialProofs

    struct SignIn: Decodable {
        let username: String
        let password: String
        /// For an account with an authenticator: its current code, or a recovery code.
        let secondFactorCode: String?

        /// 400 for a field too long to be right, before anything is hashed or counted.
        func checkLengths() throws {
            try SignInFields.check("username", username, maximumLength: SignInFields.maximumUsernameLength)
            try SignInFields.checkPassword(password)
            if let secondFactorCode {
                try SignInFields.check("second_factor_code", secondFactorCode, maximumLength: SignInFields.maximumCodeLength)
            }
        }
    }

    struct SessionView: ResponseEncodable {
        let slug: String
        let tenantId: APIID
        let userId: APIID
        /// Only when this sign-in confirmed the user's new authenticator: shown this once.
        let recoveryCodes: [String]?

        init(_ session: TenantUserSession, recoveryCodes: [String]? = nil) {
            slug = session.slug
            tenantId = APIID(session.tenant.rawValue)
            userId = APIID(session.user.rawValue)
            self.recoveryCodes = recoveryCodes
        }
    }

    struct PasswordChange: Decodable {
        let currentPassword: String
        let newPassword: String
        /// Required when the user has an authenticator: a current code or a recovery code.
        let secondFactorCode: String?
    }

    struct PermissionsView: ResponseEncodable {
        let permCodes: [String]
    }

    struct CheckView: ResponseEncodable {
        let permCode: String
        let granted: Bool
    }

    /// Several codes at once (`auth.has_permissions`): any of them, or all with `require_all`.
    struct ManyCodes: Decodable {
        let permCodes: [String]
        let requireAll: Bool?
    }

    struct ManyView: ResponseEncodable {
        let permCodes: [String]
        let requireAll: Bool
        let granted: Bool
    }

    func register(open: RouterGroup<PortalContext>, signedIn: RouterGroup<PortalContext>) {
        open.post("session") { request, context in
            let (credentials, session, recoveryCodes) = try await withPassword(request, context) { credentials, session, auth in
                (credentials, session, try await SecondFactorSignIn(auth: auth, session: session).pass(code: credentials.secondFactorCode))
            }
            let tenant = session.platformTenant
            // Signing in again in the same browser replaces its session of this tenant.
            if let previous = sessions.cookies.token(in: request, for: tenant.id) { try await sessions.store.close(previous) }
            let subject = SessionSubject.tenantUser(tenantID: tenant.id, authTenant: session.tenant, user: session.user)
            let token = try await sessions.store.open(subject)
            // This sign-in enabled an authenticator: sessions opened without it end.
            if recoveryCodes != nil { try await sessions.closeAll(of: subject, keeping: token) }
            var response = try SessionView(session, recoveryCodes: recoveryCodes).response(from: request, context: context)
            response.setCookie(sessions.cookies.setting(token, for: tenant.id))
            return response
        }
        // Enrolment before the first sign-in, for a tenant that requires a second factor: the
        // password proves who asks, and the secret stays pending until a sign-in sends its code.
        open.post("session/second-factor") { request, context in
            try await withPassword(request, context) { _, session, auth in
                switch try await auth.secondFactorStep(tenant: session.tenant, user: session.user) {
                case .code: throw APIError.secondFactorRequired
                case .none: throw APIError.secondFactorNotRequired(slug: session.slug)
                case .enrolment:
                    return TenantSecondFactorRoutes.EnrolmentView(try await auth.beginTOTPEnrolment(user: session.user, issuer: session.slug))
                }
            }
        }
        signedIn.get("session") { _, context in
            let session = try context.requireTenantUser()
            return SessionView(session)
        }
        // The member's own password. The current one comes too, and a current code when they
        // have an authenticator, so a stolen session (even with the password) cannot take the
        // account over; and since a new password clears the lockout's count, guessed codes
        // must not get a fresh count this way. The member's other sessions end, this one stays.
        signedIn.put("session/password") { request, context in
            let change = try await request.decode(as: PasswordChange.self, context: context)
            try SignInFields.checkPassword(change.newPassword)
            if let code = change.secondFactorCode {
                try SignInFields.check("second_factor_code", code, maximumLength: SignInFields.maximumCodeLength)
            }
            try await proofs.password(change.currentPassword, context)
            try await proofs.secondFactorIfEnabled(change.secondFactorCode, context)
            try await work.run(context, requiring: nil) { auth, session in
                try await auth.setUserPassword(session.user, password: change.newPassword)
            }
            let session = try context.requireTenantUser()
            try await sessions.endSessions(of: session.user, in: session, keepingThatOf: request)
            return Response(status: .noContent)
        }
        // Signs out of the tenant the slug names, clearing its cookie only (the browser keeps
        // its sessions of other tenants). A request without that tenant's cookie gets 204
        // and no cookie, whatever the slug: clearing a cookie named after a tenant's id would
        // tell a stranger that the slug exists.
        open.delete("session") { request, context in
            if let tenant = context.tenant, let token = sessions.cookies.token(in: request, for: tenant.id) {
                try await sessions.store.close(token)
                var response = Response(status: .noContent)
                response.setCookie(sessions.cookies.clearing(for: tenant.id))
                return response
            }
            if let renamed = try await sessions.renamedTenant(request, slug: try context.parameters.require("slug"),
                                                              current: context.tenant) {
                throw renamed
            }
            return Response(status: .noContent)
        }
        signedIn.get("permissions") { _, context in
            let session = try context.requireTenantUser()
            let codes = try await connections.withConnection(to: session.connectionTarget) { connection in
                try await AuthClient(connection).userPermissions(tenant: session.tenant, user: session.user)
            }
            return PermissionsView(permCodes: codes)
        }
        signedIn.get("permissions/{code}") { _, context in
            let session = try context.requireTenantUser()
            let code = try context.parameters.require("code")
            // A pure check: answered by the tenant's cache (see TenantWork on where it is used).
            let cache = try await connections.permissionCache(for: session.connectionTarget)
            let granted = try await cache.hasPermission(tenant: session.tenant, user: session.user, code: code)
            return CheckView(permCode: code, granted: granted)
        }
        signedIn.post("permissions/check") { request, context in
            let session = try context.requireTenantUser()
            let body = try await request.decode(as: ManyCodes.self, context: context)
            let requireAll = body.requireAll ?? false
            let cache = try await connections.permissionCache(for: session.connectionTarget)
            let granted = try await cache.hasPermissions(tenant: session.tenant, user: session.user,
                                                         codes: body.permCodes, requireAll: requireAll)
            return ManyView(permCodes: body.permCodes, requireAll: requireAll, granted: granted)
        }
    }

    /// Runs `body` for the member whose username and password the request's body carries, in
    /// the tenant's database (autocommit: every count of a wrong guess stays). Every attempt
    /// counts in the sign-in throttle until `body` succeeds, a missing or wrong second factor
    /// too. An unknown or inactive tenant fails like a wrong password: nothing tells them apart.
    private func withPassword<T: Sendable>(
        _ request: Request, _ context: PortalContext,
        _ body: (SignIn, TenantUserSession, AuthClient) async throws -> T
    ) async throws -> T {
        let credentials = try await request.decode(as: SignIn.self, context: context)
        try credentials.checkLengths()
        guard let tenant = context.tenant else { throw try await refusal(.wrongCredentials, request, context) }
        let account = "\(tenant.id):\(credentials.username)"
        try await throttle.reserve(kind: "tenant", account: account, client: context.clientAddress)
        let result = try await connections.withConnection(to: tenant.connectionTarget) { connection -> T? in
            guard let session = try await passwordUser(credentials, tenant: tenant, on: connection) else { return nil }
            return try await body(credentials, session, AuthClient(connection))
        }
        guard let result else { throw try await refusal(.wrongCredentials, request, context) }
        try await throttle.succeeded(kind: "tenant", account: account, client: context.clientAddress)
        return result
    }

    /// The uniform refusal, or the 404 of a renamed tenant's old slug for its signed-in user.
    private func refusal(_ uniform: APIError, _ request: Request, _ context: PortalContext) async throws -> APIError {
        try await sessions.renamedTenant(request, slug: try context.parameters.require("slug"), current: context.tenant) ?? uniform
    }

    /// The user behind the username and password, in the tenant row the registry recorded for
    /// this database, with live access; nil for an unknown user, a wrong password, a locked
    /// account or no live membership alike (one answer for every failure: none confirms a
    /// password). The second factor is ``SecondFactorSignIn``'s.
    private func passwordUser(_ credentials: SignIn, tenant: TenantHandle, on connection: Connection) async throws -> TenantUserSession? {
        let auth = AuthClient(connection)
        guard let user = try await auth.verifyUserPassword(username: credentials.username, password: credentials.password) else {
            return nil
        }
        let authTenant = try tenant.authTenantID()
        guard try await auth.checkTenantAccess(tenant: authTenant, user: user) else { return nil }
        return TenantUserSession(platformTenant: tenant, tenant: authTenant, user: user)
    }

}
