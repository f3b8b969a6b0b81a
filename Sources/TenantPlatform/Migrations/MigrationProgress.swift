/// Where a migration run stands, passed to the progress callback after every change.
public struct MigrationProgress: Sendable {
    public enum Event: Sendable {
        case templateStarted(server: String, database: String)
        case templateFinished(server: String, SchemaMigrationResult)
        case templateFailed(server: String, database: String, error: String)
        case tenantStarted(slug: String)
        case tenantFinished(TenantMigrationResult)
    }

    public let event: Event
    /// Tenants in this run (skipped ones excluded).
    public let total: Int
    public let succeeded: Int
    public let failed: Int
    /// Tenants migrating right now; never more than the run's `jobs`.
    public let running: Int

    public var done: Int { succeeded + failed }
    public var remaining: Int { total - done }
}
