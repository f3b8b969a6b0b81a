import Logging
import PQ

/// The multi-tenant platform: the master registry, the tenant databases it provisions, and
/// the pools that serve them.
///
/// ```swift
/// let platform = try await Platform.start(try PlatformConfiguration.resolve())
/// let created = try await TenantProvisioner(platform: platform).create(name: "Acme", slug: "acme")
/// try await platform.connections.withConnection(tenant: "acme") { connection in ... }
/// ```
public final class Platform: Sendable {
    public let configuration: PlatformConfiguration
    /// Connections to the master database.
    public let master: ConnectionPool
    public let registry: TenantRegistry
    /// Tenant pools; credentials are decrypted only when a tenant's pool opens.
    public let connections: TenantConnectionManager
    let logger: Logger

    /// Creates the master database when missing, brings its schema up to date, and checks
    /// that `TENANT_ENCRYPTION_KEY` is the key the registry was set up with.
    ///
    /// - Throws: ``PlatformError`` `.multiTenantDisabled` when `MULTI_TENANT` is false,
    ///   `.wrongEncryptionKey`, or the connection's error.
    public static func start(_ configuration: PlatformConfiguration, logger: Logger = .disabled) async throws -> Platform {
        guard configuration.multiTenant else {
            throw PlatformError(.multiTenantDisabled, "multi-tenant mode is off (MULTI_TENANT=false)",
                               hint: "Set MULTI_TENANT=true in the environment or .env to use tenants, organizations and admin users.")
        }
        try await MasterDatabase.prepare(configuration, logger: logger)
        return Platform(configuration, logger: logger)
    }

    private init(_ configuration: PlatformConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        master = ConnectionPool(.init(conninfo: configuration.masterConninfo, maximumConnections: 4), logger: logger)
        registry = TenantRegistry(master: master)
        connections = TenantConnectionManager(
            settings: configuration.pool,
            source: RegistryConnectionSource(registry: registry, configuration: configuration),
            logger: logger)
    }

    /// Runs `body` on a new connection to `database` as the provisioning admin
    /// (`PG_ADMIN_USER`), closed before this returns: a lingering session on a template or
    /// a tenant database would block cloning or dropping it.
    func withAdminConnection<T: Sendable>(
        database: String = "postgres",
        isolation: isolated (any Actor)? = #isolation,
        _ body: (Connection) async throws -> T
    ) async throws -> T {
        let connection = try await Connection.connect(configuration.adminConninfo(database: database), logger: logger)
        do {
            let value = try await body(connection)
            await connection.close()
            return value
        } catch {
            await connection.close()
            throw error
        }
    }

    public func shutdown() async {
        await connections.shutdown()
        await master.close()
    }
}

/// Hands the connection manager a tenant's connection string, decrypted from the registry
/// when its pool opens; only active tenants get one.
struct RegistryConnectionSource: TenantConnectionSource {
    let registry: TenantRegistry
    let configuration: PlatformConfiguration

    func connectionInfo(forTenant slug: String) async throws -> String {
        let record = try await registry.require(slug: slug)
        guard record.status == .active else {
            throw PlatformError(.tenantNotActive, "tenant '\(slug)' is \(record.status.rawValue)",
                                hint: record.status == .inactive ? "`pgperm tenant resume \(slug)` reactivates it." : nil)
        }
        return try configuration.tenantConninfo(record)
    }
}

extension PlatformConfiguration {
    /// The tenant role's connection string, its password decrypted.
    func tenantConninfo(_ record: TenantRecord) throws -> String {
        let password = try cipher.open(record.credentialsEncrypted, context: record.roleSecretContext)
        return server.conninfo(database: record.databaseName, user: record.roleName, password: password)
    }
}

extension TenantRecord {
    /// What each sealed secret is bound to: copied onto another tenant's row, it does not open.
    var roleSecretContext: String { "tenant:\(id.uuidString.lowercased()):role" }
    var adminSecretContext: String { "tenant:\(id.uuidString.lowercased()):admin" }
}
