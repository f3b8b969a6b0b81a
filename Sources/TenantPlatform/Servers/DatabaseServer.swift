import Foundation
import PQ

/// A PostgreSQL server that holds tenant databases, as `platform.database_server` records it.
public struct DatabaseServer: Sendable, Equatable {
    public enum Status: String, Sendable, CaseIterable {
        /// Takes new tenants.
        case active
        /// Serves its tenants but takes no new one (`pgperm server drain`), e.g. before its
        /// tenants are moved away.
        case draining
        /// Known to be unreachable: its tenants are answered "server unavailable" at once,
        /// without waiting for a connection attempt to time out.
        case down
    }

    public let id: ServerID
    public var name: String
    /// Where the server listens (a host name, an IP address, or a Unix-socket directory).
    public var address: PlatformConfiguration.Server
    /// The provisioning admin: creates and drops tenant databases and roles on this server.
    public var adminUser: String
    /// The admin's password, sealed (``CredentialCipher``); nil when the server needs none.
    public var adminPasswordEncrypted: String?
    public var keyVersion: Int
    /// How many tenants it may hold; placement fills servers by free capacity.
    public var capacity: Int
    /// This server's ceiling on tenant connections per process; nil: `TENANT_MAX_CONNECTIONS`.
    public var maxConnections: Int?
    public var status: Status
    /// The server of the configuration (`.env`, `pgperm up`): each process reaches it as its
    /// own configuration says (``PlatformConfiguration/address(of:)``).
    public var fromConfiguration: Bool
    /// Tenants registered on it, in any status, and tenants being moved to it (read with the server).
    public var tenantCount: Int

    /// The columns of `platform.database_server s`, each named `server_*` so that they can
    /// sit beside a tenant's in one row.
    static let columns = """
        s.server_id, s.name AS server_name, s.host AS server_host, s.port AS server_port, s.admin_user AS server_admin_user,
        s.admin_password_encrypted AS server_admin_password_encrypted, s.key_version AS server_key_version,
        s.capacity AS server_capacity, s.max_connections AS server_max_connections, s.status AS server_status,
        s.from_configuration AS server_from_configuration,
        ((SELECT count(*) FROM platform.tenant c WHERE c.server_id = s.server_id)
         + (SELECT count(*) FROM platform.tenant_move m WHERE m.to_server_id = s.server_id))::int AS server_tenant_count
        """

    init(row: Row) throws {
        id = try row.decode(column: "server_id")
        name = try row.decode(column: "server_name")
        address = PlatformConfiguration.Server(host: try row.decode(column: "server_host"), port: try row.decode(column: "server_port"))
        adminUser = try row.decode(column: "server_admin_user")
        adminPasswordEncrypted = try row.decode(column: "server_admin_password_encrypted")
        keyVersion = try row.decode(column: "server_key_version")
        capacity = try row.decode(column: "server_capacity")
        maxConnections = try row.decode(column: "server_max_connections")
        let status: String = try row.decode(column: "server_status")
        guard let parsed = Status(rawValue: status) else {
            throw PostgresError(kind: .decoding, message: "unknown server status \(status)")
        }
        self.status = parsed
        fromConfiguration = try row.decode(column: "server_from_configuration")
        tenantCount = try row.decode(column: "server_tenant_count")
    }

    /// Tenants it may still take.
    public var freeCapacity: Int { max(0, capacity - tenantCount) }

    /// What the admin's sealed password is bound to: copied onto another server's row, it
    /// does not open.
    var adminSecretContext: String { "server:\(id):admin" }
}
