import Foundation
import Hummingbird
import Permissions
import TenantPlatform

/// What the middleware learns about a request before a route runs: the signed-in admin
/// user on `/admin/api/*`, the signed-in tenant user on `/t/{slug}/api/*`.
struct PortalContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The peer's address, the client of the sign-in throttle ("unknown" without one, as in
    /// HummingbirdTesting's router mode). Behind a proxy every client shares the proxy's.
    let clientAddress: String
    var admin: AdminUser?
    /// On `/t/{slug}/api/*`: the tenant the slug names, when it exists and is active.
    var tenant: TenantHandle?
    var tenantUser: TenantUserSession?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        let address = source.channel.remoteAddress
        clientAddress = address?.ipAddress ?? address?.pathname ?? "unknown"
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

/// A tenant application user signed in to one tenant's API: the platform tenant (as this
/// request found it), the tenant row inside its database, and the user there.
struct TenantUserSession: Sendable, Equatable {
    let platformTenant: TenantHandle
    let tenant: TenantID
    let user: UserID

    var slug: String { platformTenant.slug }
    var connectionTarget: TenantConnectionTarget { platformTenant.connectionTarget }
}
