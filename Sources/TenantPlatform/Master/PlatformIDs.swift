import Foundation
import Permissions

/// A tenant's id in the master registry (`platform.tenant.tenant_id`). Not the id of the
/// tenant row inside its own database: that is a ``Permissions/TenantID``
/// (``TenantRecord/authTenantID``).
public struct PlatformTenantID: EntityID {
    public let rawValue: UUID
    public init(_ rawValue: UUID) { self.rawValue = rawValue }
}

/// A database server's id (`platform.database_server.server_id`).
public struct ServerID: EntityID {
    public let rawValue: UUID
    public init(_ rawValue: UUID) { self.rawValue = rawValue }
}

/// An admin user's id (`platform.admin_user.admin_user_id`).
public struct AdminUserID: EntityID {
    public let rawValue: UUID
    public init(_ rawValue: UUID) { self.rawValue = rawValue }
}

/// An organization's id (`platform.organization.organization_id`).
public struct OrganizationID: EntityID {
    public let rawValue: UUID
    public init(_ rawValue: UUID) { self.rawValue = rawValue }
}
