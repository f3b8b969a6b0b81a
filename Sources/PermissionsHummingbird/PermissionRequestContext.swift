import Hummingbird
import Permissions

/// Who asks, in which tenant: what ``RequirePermission`` checks.
public struct PermissionIdentity: Sendable, Hashable {
    public var tenant: TenantID
    public var user: UserID

    public init(tenant: TenantID, user: UserID) {
        self.tenant = tenant
        self.user = user
    }
}

/// A request context that can name the tenant and the user of the request, as set by the
/// application's own authentication middleware (a session, a token) before
/// ``RequirePermission`` runs.
public protocol PermissionRequestContext: RequestContext {
    /// The request's tenant and user; nil when the request is not signed in (401).
    var permissionIdentity: PermissionIdentity? { get }
}
