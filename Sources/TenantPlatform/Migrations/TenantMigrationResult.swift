import Foundation

/// One tenant's outcome in a migration run: a row of `platform.tenant_migration`.
public struct TenantMigrationResult: Sendable {
    /// The values of `platform.tenant_migration.status`.
    public enum Status: String, Sendable {
        case pending, running, succeeded, failed
    }

    public let tenantID: PlatformTenantID
    public let slug: String
    public let status: Status
    public let fromVersion: String?
    public let toVersion: String?
    public let duration: Duration?
    /// Why it failed: the installer names the file and line.
    public let error: String?
}
