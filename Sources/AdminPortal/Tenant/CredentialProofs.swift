import Permissions
import TenantPlatform

/// What a signed-in member proves before a change a stolen session alone must not make (a new
/// password, an authenticator, new recovery codes): their password or a current second-factor
/// code. Each proof runs in a statement of its own, before the change's unit of work: a wrong
/// guess's count in the lockout must commit although the request fails.
struct CredentialProofs {
    let connections: TenantConnectionManager

    /// Passes when `password` is the signed-in user's; 401 `wrong_credentials` otherwise (also
    /// for a user without a password: single sign-on, an API key).
    func password(_ password: String, _ context: PortalContext) async throws {
        try SignInFields.checkPassword(password)
        let session = try context.requireTenantUser()
        let proved = try await connections.withConnection(to: session.connectionTarget) { connection in
            let auth = AuthClient(connection)
            let username = try await auth.tenantUser(session.tenant, user: session.user).username
            return try await auth.verifyUserPassword(username: username, password: password) == session.user
        }
        guard proved else { throw APIError.wrongCredentials }
    }

    /// Passes when the signed-in user has no enabled authenticator, or `code` is one of its
    /// current codes or an unused recovery code; 401 otherwise.
    func secondFactorIfEnabled(_ code: String?, _ context: PortalContext) async throws {
        try await secondFactor(code, context, onlyIfEnabled: true)
    }

    /// Passes when `code` is the signed-in user's current authenticator code or an unused
    /// recovery code; 401 otherwise.
    func secondFactor(_ code: String?, _ context: PortalContext) async throws {
        try await secondFactor(code, context, onlyIfEnabled: false)
    }

    /// Both checks on one connection.
    private func secondFactor(_ code: String?, _ context: PortalContext, onlyIfEnabled: Bool) async throws {
        let session = try context.requireTenantUser()
        try await connections.withConnection(to: session.connectionTarget) { connection in
            let auth = AuthClient(connection)
            if onlyIfEnabled, try await !auth.secondFactor(user: session.user).isEnabled { return }
            guard let code else { throw APIError.secondFactorRequired }
            guard try await auth.verifySecondFactor(user: session.user, code: code) else { throw APIError.wrongSecondFactor }
        }
    }
}
