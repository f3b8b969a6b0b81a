import Logging
import Permissions
import PQ

/// Brings one database to a manifest's version with the schema installer (one transaction:
/// a failed migration leaves the database exactly as it was) and reads the version before.
/// Provisioning, the template and `pgperm migrate` all go through it, so a tenant database is
/// installed one way whichever path reaches it.
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

    /// - Parameter roles: a tenant or template database's roles: the installer grants to its
    ///   group roles (re-applying the privileges when they were another prefix's, as in a
    ///   fresh clone or a tenant created before tenants had roles of their own), then the
    ///   roles are confined (``TenantRoles/confine(on:)``). Nil for the master database.
    func run(on connection: Connection, database: String, roles: TenantRoles?) async throws -> SchemaMigrationResult {
        let started = ContinuousClock.now
        var fromVersion: String?
        do {
            let installer = SchemaInstaller(manifest: manifest, rolePrefix: roles?.groupPrefix ?? SchemaInstaller.defaultRolePrefix,
                                            logger: logger)
            fromVersion = try await installer.status(on: connection).installedVersion
            let report = try await installer.install(on: connection)
            if appliesTenantDefaults { try await TenantSchema.applyDefaults(on: connection) }
            try await roles?.confine(on: connection)
            return SchemaMigrationResult(database: database, fromVersion: fromVersion, toVersion: report.version,
                                         appliedFiles: report.appliedFiles, duration: ContinuousClock.now - started)
        } catch {
            throw Failure(fromVersion: fromVersion, underlying: error)
        }
    }
}
