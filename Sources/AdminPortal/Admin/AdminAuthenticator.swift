import Foundation
import Hummingbird
import TenantPlatform

/// Admits a request to the admin API when its cookie names an open session of an admin
/// user who is still active; the user is read afresh on every request, so a deactivation
/// or a changed grant counts at once.
struct AdminAuthenticator: RouterMiddleware {
    let sessions: SessionStore<AdminSubject>
    let cookie: SessionCookie
    let admins: AdminUserStore

    func handle(_ request: Request, context: PortalContext,
                next: (Request, PortalContext) async throws -> Response) async throws -> Response {
        guard let token = cookie.token(in: request),
              let subject = await sessions.subject(for: token),
              let admin = try await admins.find(subject.adminID.uuidString.lowercased()),
              admin.isActive
        else { throw APIError.notSignedIn }
        var context = context
        context.admin = admin
        return try await next(request, context)
    }
}

/// Who an admin session belongs to.
struct AdminSubject: Sendable, Equatable {
    let adminID: UUID
}
