import Foundation
import PQ

/// The rows of `platform.database_server`. Changes that need an audit row run on a
/// ``MasterChange`` (`ServerRegistry(master: change)`).
public struct ServerRegistry: Sendable {
    let master: any QueryExecutor

    public init(master: any QueryExecutor) {
        self.master = master
    }

    public func all() async throws -> [DatabaseServer] {
        try await master.query("SELECT \(DatabaseServer.columns) FROM platform.database_server s ORDER BY s.created_at, s.name",
                               [], prepared: false).map(DatabaseServer.init(row:))
    }

    public func find(name: String) async throws -> DatabaseServer? {
        try await master.query("SELECT \(DatabaseServer.columns) FROM platform.database_server s WHERE s.name = $1",
                               [name], prepared: false).rows.first.map(DatabaseServer.init(row:))
    }

    /// The server, or ``PlatformError`` `.unknownServer`.
    public func require(name: String) async throws -> DatabaseServer {
        if let server = try await find(name: name) { return server }
        throw PlatformError(.unknownServer, "no database server is named '\(name)'",
                            hint: "`pgperm server list` shows the servers.")
    }

    public func require(id: ServerID) async throws -> DatabaseServer {
        guard let row = try await master.query("SELECT \(DatabaseServer.columns) FROM platform.database_server s WHERE s.server_id = $1",
                                               [id], prepared: false).rows.first else {
            throw PlatformError(.unknownServer, "no database server has id \(id)", hint: "`pgperm server list` shows the servers.")
        }
        return try DatabaseServer(row: row)
    }

    /// Fills in the row the master schema created for the configuration's server, once: its
    /// address and admin user, for `server list` and `show`. Its password is never stored:
    /// each process reaches that server with its own configuration
    /// (``PlatformConfiguration/address(of:)``), as it reaches the master database.
    func refreshConfigurationServer(_ configuration: PlatformConfiguration) async throws {
        do {
            try await master.query("""
                UPDATE platform.database_server SET host = $1, port = $2, admin_user = $3, key_version = $4, updated_at = now()
                 WHERE from_configuration AND host = ''
                """, [configuration.server.host, configuration.server.port, configuration.adminLogin.user,
                      configuration.cipher.currentKey.version], prepared: false)
        } catch let error as PostgresError where error.code == .uniqueViolation {
            throw PlatformError(.serverExists,
                                "the configured server \(configuration.server.host):\(configuration.server.port) is registered under another name",
                                hint: "Remove that registration (`pgperm server remove NAME`) or point MASTER_DB_HOST/MASTER_DB_PORT elsewhere.")
        }
    }

    func insert(name: String, address: PlatformConfiguration.Server, adminUser: String, adminPassword: String?,
                capacity: Int, maxConnections: Int?, cipher: CredentialCipher) async throws -> DatabaseServer {
        let id = ServerID(UUID())
        let sealed = try adminPassword.map { try cipher.seal($0, context: "server:\(id):admin") }
        do {
            try await master.query("""
                INSERT INTO platform.database_server (server_id, name, host, port, admin_user, admin_password_encrypted,
                                                      key_version, capacity, max_connections)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                """, [id, name, address.host, address.port, adminUser, sealed, cipher.currentKey.version, capacity, maxConnections],
                prepared: false)
        } catch let error as PostgresError where error.code == .uniqueViolation {
            let what = error.constraintName == "database_server_name_key" ? "a server named '\(name)'"
                : "a server at \(address.host):\(address.port)"
            throw PlatformError(.serverExists, "\(what) is already registered", hint: "`pgperm server list` shows the servers.")
        }
        return try await require(id: id)
    }

    /// Writes the fields given and returns the row as it is now.
    func update(_ id: ServerID, status: DatabaseServer.Status? = nil, capacity: Int? = nil,
                maxConnections: Int?? = nil) async throws -> DatabaseServer {
        try await master.query("""
            UPDATE platform.database_server
               SET status = coalesce($2, status), capacity = coalesce($3, capacity),
                   max_connections = CASE WHEN $4 THEN $5 ELSE max_connections END, updated_at = now()
             WHERE server_id = $1
            """, [id, status?.rawValue, capacity, maxConnections != nil, maxConnections ?? nil], prepared: false)
        return try await require(id: id)
    }

    func delete(_ id: ServerID) async throws {
        try await master.query("DELETE FROM platform.database_server WHERE server_id = $1", [id], prepared: false)
    }

    /// The server a new tenant goes to: `name`'s when given (it must be active), else the
    /// active server with the most free capacity. Call it inside the change that inserts the
    /// tenant: it takes a transaction-level lock, so concurrent creations count each other.
    ///
    /// - Throws: ``PlatformError`` `.unknownServer`, `.serverNotActive`, or `.noCapacity`.
    func place(on name: String?) async throws -> DatabaseServer {
        try await master.query("SELECT pg_advisory_xact_lock(hashtextextended('pgperm.placement', 0))", [], prepared: false)
        if let name {
            let server = try await require(name: name)
            guard server.status == .active else {
                throw PlatformError(.serverNotActive, "server '\(name)' is \(server.status.rawValue) and takes no new tenant",
                                    hint: "Pick an active server (`pgperm server list`), or leave --server out.")
            }
            guard server.freeCapacity > 0 else {
                throw PlatformError(.noCapacity, "server '\(name)' is full (\(server.tenantCount) of \(server.capacity) tenants)",
                                    hint: "Raise its capacity (`pgperm server update \(name) --capacity N`) or pick another server.")
            }
            return server
        }
        let candidates = try await all().filter { $0.status == .active && $0.freeCapacity > 0 }
        guard let best = candidates.max(by: { ($0.freeCapacity, $1.name) < ($1.freeCapacity, $0.name) }) else {
            throw PlatformError(.noCapacity, "no active database server has room for another tenant",
                                hint: "Add a server (`pgperm server add`), raise a capacity, or reactivate a drained one.")
        }
        return best
    }
}
