/// Which tenant a connection is for, and which server's ceiling it counts against
/// (``TenantHandle/connectionTarget``).
///
/// Pools are keyed by the tenant's id: a rename changes nothing here. A lease whose server
/// differs from its pool's (the tenant was moved) closes that pool and opens a new one.
public struct TenantConnectionTarget: Sendable, Hashable {
    public var tenant: PlatformTenantID
    public var server: ServerID
    /// How errors name the server.
    public var serverName: String
    /// This server's ceiling on open connections; nil: ``TenantPoolSettings/maximumConnections``.
    public var serverCeiling: Int?
    /// How logs and errors name the tenant (its slug at the time of the lease).
    public var name: String

    public init(tenant: PlatformTenantID, server: ServerID, serverName: String, serverCeiling: Int? = nil, name: String) {
        self.tenant = tenant
        self.server = server
        self.serverName = serverName
        self.serverCeiling = serverCeiling
        self.name = name
    }
}
