import Foundation
import Hummingbird
import Permissions
import TenantPlatform

/// What the middleware learns about a request before a route runs: the signed-in admin
/// user on `/admin/api/*`, the signed-in tenant user on `/t/{slug}/api/*`.
struct PortalContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    var admin: AdminUser?
    var tenantUser: TenantUserSession?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    /// JSON bodies use the SQL functions' snake_case names (`perm_code`, `tenant_id`); ids
    /// are written as PostgreSQL writes them, in lower case (see ``APIID``).
    var requestDecoder: APIRequestDecoder { APIRequestDecoder() }

    /// The API's bodies are small JSON objects; anything larger is refused with 413 before
    /// it is held in memory.
    var maxUploadSize: Int { 64 * 1024 }

    var responseEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// The signed-in admin; the authenticator guarantees it on every admin API route.
    func requireAdmin() throws -> AdminUser {
        guard let admin else { throw APIError.notSignedIn }
        return admin
    }

    func requireTenantUser() throws -> TenantUserSession {
        guard let tenantUser else { throw APIError.notSignedIn }
        return tenantUser
    }
}

/// A tenant application user signed in to one tenant's API.
struct TenantUserSession: Sendable, Equatable {
    let slug: String
    let tenant: TenantID
    let user: UserID
}
