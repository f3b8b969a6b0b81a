import Logging
import PQ

/// The multi-tenant platform: the master registry, the tenant databases it provisions, and
/// the pools that serve them.
///
/// ```swift
/// let platform = try await Platform.start(try PlatformConfiguration.resolve())
/// let created = try await TenantProvisioner(platform: platform).create(name: "Acme", slug: "acme")
/// let acme = try await platform.directory.require(slug: "acme")
/// try await platform.connections.withConnection(to: acme.connectionTarget) { connection in ... }
/// ```
public final class Platform: Sendable {
    public let configuration: PlatformConfiguration
    /// Connections to the master database.
    public let master: ConnectionPool
    /// Finds tenants (by id or slug) with their servers.
    public let directory: TenantDirectory
    /// The database servers tenants live on.
    public let servers: ServerRegistry
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
        directory = TenantDirectory(master: master)
        servers = ServerRegistry(master: master)
        connections = TenantConnectionManager(
            settings: configuration.pool,
            source: DirectoryConnectionSource(directory: directory, configuration: configuration),
            logger: logger)
    }

    /// Runs `body` on a new connection to `database` on `server` as its provisioning admin,
    /// closed before this returns: a lingering session on a template or a tenant database
    /// would block cloning or dropping it.
    func withAdminConnection<T: Sendable>(
        on server: DatabaseServer,
        database: String = "postgres",
        isolation: isolated (any Actor)? = #isolation,
        _ body: (Connection) async throws -> T
    ) async throws -> T {
        let connection = try await Connection.connect(try configuration.adminConninfo(server, database: database), logger: logger)
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

/// Hands the connection manager a tenant's connection string, decrypted from the directory
/// when its pool opens; only active tenants on a server not marked down get one.
struct DirectoryConnectionSource: TenantConnectionSource {
    let directory: TenantDirectory
    let configuration: PlatformConfiguration

    func connectionInfo(for target: TenantConnectionTarget) async throws -> String {
        let handle = try await directory.require(id: target.tenant)
        guard handle.status == .active else {
            throw PlatformError(.tenantNotActive, "tenant '\(handle.slug)' is \(handle.status.rawValue)",
                                hint: handle.status == .inactive ? "`pgperm tenant resume \(handle.slug)` reactivates it." : nil)
        }
        // A handle found before a move: its pool would count against the old server.
        guard handle.server.id == target.server else { throw TenantConnectionError.tenantMoved(target) }
        guard handle.server.status != .down else {
            throw TenantConnectionError.serverUnavailable(handle.connectionTarget, reason: nil)
        }
        return try configuration.tenantConninfo(handle)
    }
}

extension PlatformConfiguration {
    /// The tenant role's connection string, its password decrypted.
    func tenantConninfo(_ handle: TenantHandle) throws -> String {
        let password = try cipher.open(handle.record.credentialsEncrypted, context: handle.record.roleSecretContext)
        return address(of: handle.server).conninfo(database: handle.databaseName, user: handle.roleName, password: password)
    }

    /// The server admin's connection string, its password decrypted.
    func adminConninfo(_ server: DatabaseServer, database: String) throws -> String {
        let login = try adminLogin(of: server)
        return address(of: server).conninfo(database: database, user: login.user, password: login.password)
    }

    /// Where the server listens. The configuration's own server is reached as this process's
    /// configuration says (as the master database is), whatever another process wrote in its
    /// row: nobody's `.env` re-points everyone's tenants.
    func address(of server: DatabaseServer) -> Server {
        server.fromConfiguration ? self.server : server.address
    }

    /// The server's provisioning admin, its password decrypted (the configuration's own
    /// server: `PG_ADMIN_USER` / `PG_ADMIN_PASSWORD` of this process).
    func adminLogin(of server: DatabaseServer) throws -> Login {
        if server.fromConfiguration { return adminLogin }
        return Login(user: server.adminUser,
                     password: try server.adminPasswordEncrypted.map { try cipher.open($0, context: server.adminSecretContext) })
    }
}

extension TenantRecord {
    /// What each sealed secret is bound to: copied onto another tenant's row, it does not open.
    var roleSecretContext: String { "tenant:\(id):role" }
    var adminSecretContext: String { "tenant:\(id):admin" }
}
