import Hummingbird
import Permissions
import TenantPlatform

/// The tenant API's sessions as requests carry them: which user a request is signed in as
/// for a tenant, and the answer at a slug a tenant no longer has.
///
/// ## The old slug of a renamed tenant
///
/// Sessions follow the tenant's id, so after a rename they work at the new slug only; the
/// old slug answers 404. Which 404 depends on who asks, and is decided here:
///
/// - A request to `/t/{old}/api/*` that the tenant now named `{old}` does not admit (no
///   tenant has that slug, or it is inactive, or the request has no session of it and is
///   not a successful sign-in) and that carries no cookie of that tenant, but carries a
///   live session of a tenant that *was* named `{old}` and is named otherwise now, is
///   answered **404 `tenant_renamed`**, with the tenant's current slug in the hint. Only a
///   signed-in user of that very tenant can get this answer, and it tells them only the new
///   name of the tenant they are signed in to: it enumerates nothing.
/// - Everyone else keeps the uniform answer of ``TenantGate``: before sign-in an unknown,
///   an inactive, a renamed-away and a real slug answer alike (401 `not_signed_in` or
///   `wrong_credentials`).
/// - If another tenant has taken the old slug since, the slug is that tenant's: its users
///   and sessions work there as at any slug. The renamed tenant's users still get the same
///   404 there (unless they also hold a cookie of the new owner), so they cannot tell
///   whether their old slug was taken, nor whether its new owner is active.
///
/// "Was named" is read from the platform audit log: every master change of a tenant
/// (creation and each rename included) records the tenant's id with its slug of the moment
/// (``TenantDirectory/hasBeenNamed(_:id:)``); no other table has to remember old slugs.
struct TenantSessions: Sendable {
    let store: SessionStore
    let cookies: TenantSessionCookies
    let directory: TenantDirectory
    let connections: TenantConnectionManager

    /// How many tenant cookies of one request are looked at for a renamed tenant.
    static let maximumCookiesExamined = 16

    /// The user the request is signed in as for `tenant`: its cookie for the tenant names an
    /// open session of this very tenant (a session of another tenant under this name is no
    /// session here), whose user still has live access to it.
    func user(of request: Request, in tenant: TenantHandle) async throws -> TenantUserSession? {
        guard let token = cookies.token(in: request, for: tenant.id) else { return nil }
        return try await user(token: token, subject: try await store.subject(for: token), in: tenant)
    }

    /// The technical user of the API key the request carries (`Authorization: Bearer pgpk_...`)
    /// for `tenant`, if the key is valid, is one of this tenant's (a key of another tenant's
    /// database is unknown in this one) and its user still has live access; nil otherwise,
    /// whatever the reason.
    func keyUser(of request: Request, in tenant: TenantHandle) async throws -> TenantUserSession? {
        guard let secret = Self.bearer(in: request) else { return nil }
        let authTenant = try tenant.authTenantID()
        let user = try await connections.withConnection(to: tenant.connectionTarget) { connection -> UserID? in
            let auth = AuthClient(connection)
            guard let identity = try await auth.authenticateAPIKey(secret), identity.tenant == authTenant,
                  try await auth.checkTenantAccess(tenant: authTenant, user: identity.user) else { return nil }
            return identity.user
        }
        return user.map { TenantUserSession(platformTenant: tenant, tenant: authTenant, user: $0) }
    }

    /// Ends `user`'s sessions of the session's tenant, all but the one whose cookie `request`
    /// carries (none without a request): a change of credentials ends what the old ones opened.
    func endSessions(of user: UserID, in session: TenantUserSession, keepingThatOf request: Request? = nil) async throws {
        let tenant = session.platformTenant.id
        try await closeAll(of: .tenantUser(tenantID: tenant, authTenant: session.tenant, user: user),
                           keeping: request.flatMap { cookies.token(in: $0, for: tenant) })
    }

    /// ``SessionStore/closeAll(of:keeping:)`` after a change that has committed: when the master
    /// database fails now, the answer says the change was made and the sessions were not ended.
    func closeAll(of subject: SessionSubject, keeping token: String?) async throws {
        do {
            try await store.closeAll(of: subject, keeping: token)
        } catch {
            throw APIError(status: .serviceUnavailable, code: "sessions_not_ended",
                           message: "the change was made, but the user's other sessions could not be ended",
                           hint: "Make the change again once the service answers (it ends them then), or ask an administrator.")
        }
    }

    /// The token of `Authorization: Bearer <token>`, if the request has one.
    static func bearer(in request: Request) -> String? {
        guard let header = request.headers[.authorization], header.count > 7,
              header.prefix(7).lowercased() == "bearer " else { return nil }
        return String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
    }

    /// The session's user in `tenant` if it is one of its sessions and the user still has
    /// access; a session whose user lost access is closed.
    private func user(token: String, subject: SessionSubject?, in tenant: TenantHandle) async throws -> TenantUserSession? {
        guard case .tenantUser(let tenantID, let authTenant, let user)? = subject, tenantID == tenant.id else { return nil }
        let hasAccess = try await connections.withConnection(to: tenant.connectionTarget) { connection in
            try await AuthClient(connection).checkTenantAccess(tenant: authTenant, user: user)
        }
        guard hasAccess else {
            try await store.close(token)
            return nil
        }
        return TenantUserSession(platformTenant: tenant, tenant: authTenant, user: user)
    }

    /// The 404 for a request at `slug` made with a live session of a tenant that was named
    /// `slug` and is named otherwise now (see the type's documentation); nil when the
    /// uniform answer stands.
    ///
    /// - Parameter current: the active tenant named `slug` now, if any (``PortalContext/tenant``).
    func renamedTenant(_ request: Request, slug: String, current: TenantHandle?) async throws -> APIError? {
        if let current, cookies.token(in: request, for: current.id) != nil { return nil }
        for (id, token) in cookies.all(in: request, limit: Self.maximumCookiesExamined) where id != current?.id {
            // The session first: nothing about a tenant is read for a request without one.
            let subject = try await store.subject(for: token)
            guard case .tenantUser(let tenantID, _, _)? = subject, tenantID == id,
                  let tenant = try await directory.find(id: id), tenant.status == .active, tenant.slug != slug,
                  try await directory.hasBeenNamed(slug, id: id),
                  try await user(token: token, subject: subject, in: tenant) != nil
            else { continue }
            return .tenantRenamed(from: slug, to: tenant.slug)
        }
        return nil
    }
}
