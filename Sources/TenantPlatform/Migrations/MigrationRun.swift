import Foundation

/// The report of ``TenantMigrator/migrate(tenants:jobs:resume:manifest:progress:)``.
public struct MigrationRun: Sendable {
    /// How the template database fared; it is migrated before any tenant.
    public enum TemplateOutcome: Sendable {
        case migrated(SchemaMigrationResult)
        /// No tenant was created yet, so there is no template; the first creation makes it current.
        case absent
        /// The run stopped here: no tenant was touched, their rows stay `pending`.
        case failed(database: String, error: String)
    }

    /// A tenant the run left alone, and why.
    public struct SkippedTenant: Sendable {
        public let slug: String
        public let status: TenantRecord.Status
    }

    /// The `run_id` of the result rows; `--resume` continues the latest one.
    public let runID: UUID
    public let resumed: Bool
    public let template: TemplateOutcome
    /// One per tenant in the run, ordered by slug.
    public let tenants: [TenantMigrationResult]
    /// Tenants still being created (`provisioning`, `failed`): their creation installs the schema.
    public let skipped: [SkippedTenant]
    public let duration: Duration

    public var failedTenants: [TenantMigrationResult] { tenants.filter { $0.status != .succeeded } }

    /// True when the template and every tenant of the run are on the new schema.
    public var succeeded: Bool {
        if case .failed = template { return false }
        return failedTenants.isEmpty
    }
}
