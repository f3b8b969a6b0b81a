import Hummingbird
import Permissions
import TenantPlatform

/// First stop of every `/t/{slug}/api/*` request: finds the tenant the slug names, if it
/// exists and is active, for the routes after it. An unknown tenant and an inactive one
/// are answered exactly like a real one before sign-in (401 from the authenticator or the
/// sign-in route), so the API cannot be used to enumerate slugs. The registry is read on
/// each request, so a tenant suspended from the CLI or another portal process is closed to
/// its users at once; unknown slugs are remembered briefly (``UnknownTenantCache``) so a
/// flood of made-up slugs does not become a flood of master queries.
struct TenantGate: RouterMiddleware {
    let directory: TenantDirectory
    let unknownTenants: UnknownTenantCache

    func handle(_ request: Request, context: PortalContext,
                next: (Request, PortalContext) async throws -> Response) async throws -> Response {
        let slug = try context.parameters.require("slug")
        var context = context
        if await !unknownTenants.contains(slug) {
            if let tenant = try await directory.find(slug: slug) {
                context.tenant = tenant.status == .active ? tenant : nil
            } else {
                await unknownTenants.insert(slug)
            }
        }
        return try await next(request, context)
    }
}

/// Admits a request when its cookie names an open session for this very tenant (a session
/// of another tenant is no session here) whose user still has live access to it.
struct TenantUserAuthenticator: RouterMiddleware {
    let sessions: SessionStore
    let cookie: SessionCookie
    let connections: TenantConnectionManager

    func handle(_ request: Request, context: PortalContext,
                next: (Request, PortalContext) async throws -> Response) async throws -> Response {
        guard let tenant = context.tenant,
              let token = cookie.token(in: request),
              case .tenantUser(let tenantID, let authTenant, let user) = try await sessions.subject(for: token),
              tenantID == tenant.id
        else { throw APIError.notSignedIn }
        let hasAccess = try await connections.withConnection(to: tenant.connectionTarget) { connection in
            try await AuthClient(connection).checkTenantAccess(tenant: authTenant, user: user)
        }
        guard hasAccess else {
            try await sessions.close(token)
            throw APIError.notSignedIn
        }
        var context = context
        context.tenantUser = TenantUserSession(platformTenant: tenant, tenant: authTenant, user: user)
        return try await next(request, context)
    }
}
