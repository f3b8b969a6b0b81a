/// A snapshot of the connection manager (``TenantConnectionManager/statistics``).
public struct TenantConnectionStatistics: Sendable, Equatable {
    /// One tenant's pool.
    public struct Pool: Sendable, Equatable {
        /// Connections open or being opened for the tenant.
        public var open: Int
        /// Connections leased to tasks.
        public var busy: Int
        /// Connections waiting in the pool for the next lease.
        public var idle: Int
    }

    /// Connections open or being opened, all tenants together; on each server, never above its ceiling.
    public var openConnections: Int
    /// Connections leased to tasks, including leases of pools closed since.
    public var busyConnections: Int
    public var idleConnections: Int
    /// Tasks waiting for a connection.
    public var waitingTasks: Int
    /// Pools open, by tenant.
    public var pools: [PlatformTenantID: Pool]
    /// Connections open or being opened, per server that has any.
    public var serverConnections: [ServerID: Int]
    /// The most connections open at once since the manager started.
    public var peakOpenConnections: Int
    /// Idle connections closed to make room for another tenant's connection at the ceiling.
    public var evictedConnections: Int
    /// Pools closed entirely because their last idle connection was evicted.
    public var evictedPools: Int

    /// Number of open pools.
    public var openPools: Int { pools.count }
}
