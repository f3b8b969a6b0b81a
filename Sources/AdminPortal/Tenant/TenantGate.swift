import Hummingbird
import Permissions
import TenantPlatform

/// First stop of every `/t/{slug}/api/*` request: the tenant must exist and be active.
/// The registry is read on each request, so a tenant suspended from the CLI or another
/// portal process is closed to its users at once.
struct TenantGate: RouterMiddleware {
    let registry: TenantRegistry

    func handle(_ request: Request, context: PortalContext,
                next: (Request, PortalContext) async throws -> Response) async throws -> Response {
        let slug = try context.parameters.require("slug")
        guard let record = try await registry.find(slug: slug) else {
            throw PlatformError(.unknownTenant, "no tenant '\(slug)'", hint: "Check the address: /t/{slug}/api/...")
        }
        guard record.status == .active else {
            throw APIError.forbidden("tenant '\(slug)' is not available", hint: "Contact its administrator.")
        }
        return try await next(request, context)
    }
}

/// Admits a request when its cookie names an open session for this very tenant (a session
/// of another tenant is no session here) whose user still has live access to it.
struct TenantUserAuthenticator: RouterMiddleware {
    let sessions: SessionStore<TenantUserSession>
    let cookie: SessionCookie
    let connections: TenantConnectionManager

    func handle(_ request: Request, context: PortalContext,
                next: (Request, PortalContext) async throws -> Response) async throws -> Response {
        let slug = try context.parameters.require("slug")
        guard let token = cookie.token(in: request),
              let session = await sessions.subject(for: token),
              session.slug == slug
        else { throw APIError.notSignedIn }
        let hasAccess = try await connections.withConnection(tenant: slug) { connection in
            try await AuthClient(connection).checkTenantAccess(tenant: session.tenant, user: session.user)
        }
        guard hasAccess else {
            await sessions.close(token)
            throw APIError.notSignedIn
        }
        var context = context
        context.tenantUser = session
        return try await next(request, context)
    }
}
