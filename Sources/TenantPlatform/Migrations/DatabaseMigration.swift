import Logging
import Permissions
import PQ

/// Brings one database to a manifest's version with the schema installer (one transaction:
/// a failed migration leaves the database exactly as it was) and reads the version before.
struct DatabaseMigration {
    let manifest: SQLManifest
    /// Tenant databases and the template also get the tenant defaults; the master does not.
    let appliesTenantDefaults: Bool
    let logger: Logger

    /// A failure, with the version the database stayed at.
    struct Failure: Error, CustomStringConvertible {
        let fromVersion: String?
        let underlying: any Error
        var description: String { "\(underlying)" }
    }

    func run(on connection: Connection, database: String) async throws -> SchemaMigrationResult {
        let started = ContinuousClock.now
        var fromVersion: String?
        do {
            let installer = SchemaInstaller(manifest: manifest, logger: logger)
            fromVersion = try await installer.status(on: connection).installedVersion
            let report = try await installer.install(on: connection)
            if appliesTenantDefaults { try await TenantSchema.applyDefaults(on: connection) }
            return SchemaMigrationResult(database: database, fromVersion: fromVersion, toVersion: report.version,
                                         appliedFiles: report.appliedFiles, duration: ContinuousClock.now - started)
        } catch {
            throw Failure(fromVersion: fromVersion, underlying: error)
        }
    }
}
