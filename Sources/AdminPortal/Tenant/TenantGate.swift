import Hummingbird
import TenantPlatform

/// First stop of every `/t/{slug}/api/*` request: finds the tenant the slug names, if it
/// exists and is active, for the routes after it. An unknown tenant and an inactive one
/// are answered exactly like a real one before sign-in (401 from the authenticator or the
/// sign-in route), so the API cannot be used to enumerate slugs (the one exception, a
/// renamed tenant's old slug asked by its own signed-in user, is in ``TenantSessions``).
/// The registry is read on each request, so a tenant suspended from the CLI or another
/// portal process is closed to its users at once; unknown slugs are remembered briefly
/// (``UnknownTenantCache``) so a flood of made-up slugs does not become a flood of master
/// queries.
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

/// Admits a request when it carries the cookie of the tenant the slug names (cookies are
/// per tenant id, see ``TenantSessionCookies``) and that cookie names an open session of this
/// very tenant (a session of another tenant is no session here) whose user still has live
/// access to it. Otherwise 401, or, for a signed-in user of a tenant that had this slug
/// before a rename, 404 naming its current slug (``TenantSessions``).
///
/// A service calls with an API key instead: `Authorization: Bearer pgpk_...`, checked in the
/// tenant's database on every request (``TenantSessions/keyUser(of:in:)``). A request with a
/// key is judged by its key alone; any key that does not admit it, for any reason, gets the
/// same 401 `invalid_api_key`, whether or not the tenant exists.
struct TenantUserAuthenticator: RouterMiddleware {
    let sessions: TenantSessions

    func handle(_ request: Request, context: PortalContext,
                next: (Request, PortalContext) async throws -> Response) async throws -> Response {
        if TenantSessions.bearer(in: request) != nil {
            guard let tenant = context.tenant, let user = try await sessions.keyUser(of: request, in: tenant) else {
                throw APIError.invalidAPIKey
            }
            var context = context
            context.tenantUser = user
            return try await next(request, context)
        }
        if let tenant = context.tenant, let user = try await sessions.user(of: request, in: tenant) {
            var context = context
            context.tenantUser = user
            return try await next(request, context)
        }
        let slug = try context.parameters.require("slug")
        if let renamed = try await sessions.renamedTenant(request, slug: slug, current: context.tenant) { throw renamed }
        throw APIError.notSignedIn
    }
}
