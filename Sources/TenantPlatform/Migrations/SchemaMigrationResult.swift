/// What migrating one database did: the schema version before and after.
public struct SchemaMigrationResult: Sendable {
    public let database: String
    public let fromVersion: String?
    public let toVersion: String?
    /// Files the installer applied; empty when the database was already up to date.
    public let appliedFiles: [String]
    public let duration: Duration

    public var wasUpToDate: Bool { appliedFiles.isEmpty }
}
