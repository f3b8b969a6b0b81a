import Logging
import Permissions
import PQ

/// Brings the master database up to date on start-up: creates it when missing, applies its
/// schema with the same installer as the auth schema, and proves the encryption key.
enum MasterDatabase {
    /// The value sealed in `platform.encryption_key_check` for each key version.
    private static let keyCheckPlaintext = "pgperm key check"
    private static let keyCheckContext = "encryption_key_check"

    static func prepare(_ configuration: PlatformConfiguration, logger: Logger) async throws {
        try await createIfMissing(configuration, logger: logger)
        let master = try await Connection.connect(configuration.masterConninfo, logger: logger)
        do {
            let report = try await SchemaInstaller(manifest: try .master(), logger: logger).install(on: master)
            logger.info("\(report)")
            try await checkKey(configuration.cipher, on: master)
            try await ServerRegistry(master: master).refreshConfigurationServer(configuration)
            await master.close()
        } catch {
            await master.close()
            throw error
        }
    }

    private static func createIfMissing(_ configuration: PlatformConfiguration, logger: Logger) async throws {
        let admin = try await Connection.connect(configuration.adminConninfo(database: "postgres"), logger: logger)
        defer { Task { await admin.close() } }
        let exists = try await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [configuration.masterDatabase])
        guard exists.isEmpty else { return }
        logger.info("creating the master database \(configuration.masterDatabase)")
        let database = quoteIdentifier(configuration.masterDatabase)
        do {
            try await admin.query("CREATE DATABASE \(database) OWNER \(quoteIdentifier(configuration.masterLogin.user))")
        } catch let error as PostgresError where error.code == .duplicateDatabase {
            return  // another process created it first
        }
        // It holds every tenant's sealed credentials: tenant roles must not even connect.
        try await admin.query("REVOKE ALL ON DATABASE \(database) FROM PUBLIC")
        try await admin.query("COMMENT ON DATABASE \(database) IS 'pgperm: the platform registry (tenants, admin users, organizations)'")
    }

    /// The first start seals a known value with the current key; every later start must be
    /// able to open it, so a wrong key stops the platform before it touches a tenant.
    private static func checkKey(_ cipher: CredentialCipher, on master: Connection) async throws {
        let version = cipher.currentKey.version
        let rows = try await master.query("SELECT sealed FROM platform.encryption_key_check WHERE key_version = $1", [version])
        guard let sealed = try rows.rows.first?.decode(String.self, at: 0) else {
            try await master.query("""
                INSERT INTO platform.encryption_key_check (key_version, sealed) VALUES ($1, $2) ON CONFLICT DO NOTHING
                """, [version, try cipher.seal(keyCheckPlaintext, context: keyCheckContext)])
            return
        }
        guard (try? cipher.open(sealed, context: keyCheckContext)) == keyCheckPlaintext else {
            throw PlatformError(.wrongEncryptionKey,
                                "TENANT_ENCRYPTION_KEY is not the key (version \(version)) this master database was set up with",
                                hint: "Restore the original key. Tenant credentials sealed with it cannot be read with another one.")
        }
    }
}

/// `"name"`, with inner quotes doubled: an identifier that is safe in any SQL text.
func quoteIdentifier(_ name: String) -> String {
    "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

/// `'text'`, with inner quotes doubled, for the few statements (utility commands) that take
/// no parameters.
func quoteLiteral(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
}

extension PlatformConfiguration {
    var masterConninfo: String {
        server.conninfo(database: masterDatabase, user: masterLogin.user, password: masterLogin.password)
    }

    func adminConninfo(database: String) -> String {
        server.conninfo(database: database, user: adminLogin.user, password: adminLogin.password)
    }
}
