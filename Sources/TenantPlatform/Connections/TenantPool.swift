import PQ

/// One tenant's pool, as the ledger tracks it: counts and idle connections, no I/O.
///
/// A pool is a value inside ``ConnectionLedger``, not an object with its own lock, so the
/// global ceiling and the least-recently-used choice across pools are decided under one lock
/// and are exact.
struct TenantPool {
    /// Distinguishes this pool from a later one for the same tenant, so a connection leased
    /// before ``TenantConnectionManager/closePool(tenant:)`` is closed when it comes back
    /// instead of joining the new pool.
    let id: UInt64
    /// The tenant and the server the pool's connections go to.
    let target: TenantConnectionTarget
    /// The tenant's conninfo, asked of the source once when the pool opened; every connection
    /// of the pool awaits the same task.
    let conninfo: Task<String, any Error>
    /// Connections ready for a lease, oldest first: leases take the newest (warm, and the
    /// old ones age out for the reaper); eviction and the reaper take the oldest.
    var idle: [IdleConnection] = []
    /// Connections leased to tasks.
    var leased = 0
    /// Connections being opened: slots already counted under the ceiling.
    var opening = 0
    /// The last lease or return; orders pools for eviction and closes unused pools.
    var lastUsed: ContinuousClock.Instant

    /// Connections of this pool open or being opened.
    var open: Int { idle.count + leased + opening }
    /// No connection of the pool is leased or being opened.
    var isUnused: Bool { leased == 0 && opening == 0 }
}

/// A connection waiting in a pool, and since when.
struct IdleConnection {
    let connection: Connection
    let since: ContinuousClock.Instant
}
