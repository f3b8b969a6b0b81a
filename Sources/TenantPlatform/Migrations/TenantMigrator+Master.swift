import Logging
import Permissions
import PQ

extension TenantMigrator {
    /// Brings the master database's `platform` schema up to date, reporting the version
    /// before and after. Needs no started ``Platform``: starting one applies the master
    /// schema itself, which would leave nothing to report.
    ///
    /// - Throws: the connection's error when the master database does not exist yet (the
    ///   first platform command creates it), or the installer's ``InstallError``.
    public static func migrateMaster(
        _ configuration: PlatformConfiguration, manifest: SQLManifest? = nil, logger: Logger = .disabled
    ) async throws -> SchemaMigrationResult {
        let migration = DatabaseMigration(manifest: try manifest ?? .master(), appliesTenantDefaults: false, logger: logger)
        let connection = try await Connection.connect(configuration.masterConninfo, logger: logger)
        do {
            let result = try await migration.run(on: connection, database: configuration.masterDatabase, roles: nil)
            await connection.close()
            return result
        } catch {
            await connection.close()
            throw error
        }
    }
}
