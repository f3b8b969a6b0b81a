import Foundation
import Hummingbird
import TenantPlatform

/// Admits a request to the admin API when its cookie names an open session of an admin
/// user who is still active; the user is read afresh on every request, so a changed grant
/// counts at once (a deactivation also deletes the sessions, see ``SessionStore``). The
/// routes after it run as the admin's ``AuditActor``, so every platform audit row they
/// write names the admin.
struct AdminAuthenticator: RouterMiddleware {
    let sessions: SessionStore
    let cookie: SessionCookie
    let admins: AdminUserStore

    func handle(_ request: Request, context: PortalContext,
                next: (Request, PortalContext) async throws -> Response) async throws -> Response {
        guard let token = cookie.token(in: request),
              case .admin(let adminID) = try await sessions.subject(for: token),
              let admin = try await admins.find(adminID.description),
              admin.isActive
        else { throw APIError.notSignedIn }
        var context = context
        context.admin = admin
        return try await AuditActor.$current.withValue(.admin(admin.id, email: admin.email)) {
            try await next(request, context)
        }
    }
}
