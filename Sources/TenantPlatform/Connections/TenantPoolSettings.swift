/// Sizes and timeouts of the tenant connection manager.
public struct TenantPoolSettings: Sendable, Equatable {
    /// Idle connections a tenant's pool keeps for reuse (`DB_POOL_SIZE`). Default 5.
    public var poolSize: Int
    /// Connections a tenant may open beyond ``poolSize`` under load (`DB_POOL_MAX_OVERFLOW`);
    /// they are closed when returned. Default 10.
    public var maxOverflow: Int
    /// The ceiling on open connections across all tenants together (`TENANT_MAX_CONNECTIONS`).
    /// Default 100.
    public var maximumConnections: Int
    /// How long a task may wait for a connection before it gets an error. Default 30 seconds.
    public var acquireTimeout: Duration
    /// An idle connection unused this long is closed. Default 5 minutes.
    public var idleConnectionTimeout: Duration
    /// A pool with no lease this long is closed entirely: its connections close and its
    /// connection string is forgotten, so the next use asks the source again. Default 10 minutes.
    public var idlePoolTimeout: Duration
    /// Memberships a tenant's ``PermissionCache`` holds at most
    /// (``TenantConnectionManager/permissionCache(for:)``). Default 10,000.
    public var cachedMembershipsPerTenant: Int

    /// The most connections one tenant may have open at once: ``poolSize`` + ``maxOverflow``.
    public var tenantLimit: Int { poolSize + maxOverflow }

    /// - Parameters: see the properties; sizes below their minimum (1 for `poolSize` and
    ///   `maximumConnections`, 0 for `maxOverflow`) are raised to it.
    public init(
        poolSize: Int = 5,
        maxOverflow: Int = 10,
        maximumConnections: Int = 100,
        acquireTimeout: Duration = .seconds(30),
        idleConnectionTimeout: Duration = .seconds(300),
        idlePoolTimeout: Duration = .seconds(600),
        cachedMembershipsPerTenant: Int = 10_000
    ) {
        self.poolSize = max(1, poolSize)
        self.maxOverflow = max(0, maxOverflow)
        self.maximumConnections = max(1, maximumConnections)
        self.acquireTimeout = acquireTimeout
        self.idleConnectionTimeout = idleConnectionTimeout
        self.idlePoolTimeout = idlePoolTimeout
        self.cachedMembershipsPerTenant = max(1, cachedMembershipsPerTenant)
    }
}
