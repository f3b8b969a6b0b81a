import Foundation

/// The report of ``TenantMigrator/migrate(tenants:jobs:resume:manifest:progress:)``.
public struct MigrationRun: Sendable {
    /// How a server's template database fared; templates are migrated before any tenant.
    public enum TemplateOutcome: Sendable {
        case migrated(SchemaMigrationResult)
        /// No tenant was created yet, so there is no template; the first creation makes it current.
        case absent
        /// The run stopped here: no tenant was touched, their rows stay `pending`.
        case failed(database: String, error: String)
    }

    /// One server's template and how it fared.
    public struct ServerTemplate: Sendable {
        public let server: String
        public let outcome: TemplateOutcome
    }

    /// A tenant the run left alone, and why.
    public struct SkippedTenant: Sendable {
        public let slug: String
        public let status: TenantRecord.Status
    }

    /// The `run_id` of the result rows; `--resume` continues the latest one.
    public let runID: UUID
    public let resumed: Bool
    /// The template of every server not marked down, in server order.
    public let templates: [ServerTemplate]
    /// One per tenant in the run, ordered by slug.
    public let tenants: [TenantMigrationResult]
    /// Tenants still being created (`provisioning`, `failed`): their creation installs the schema.
    public let skipped: [SkippedTenant]
    public let duration: Duration

    public var failedTenants: [TenantMigrationResult] { tenants.filter { $0.status != .succeeded } }

    /// Whether a template failed, which stops the run before any tenant.
    public var templateFailed: Bool {
        templates.contains { if case .failed = $0.outcome { true } else { false } }
    }

    /// True when every template and every tenant of the run are on the new schema.
    public var succeeded: Bool { !templateFailed && failedTenants.isEmpty }
}
