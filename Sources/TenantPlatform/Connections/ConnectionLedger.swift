import PQ

/// The connection manager's whole state, and every decision about it: which connection a
/// task gets, when a slot under the ceiling is free, which idle connection to evict, which
/// waiting task goes next.
///
/// It does no I/O and never suspends: ``TenantConnectionManager`` calls it under one lock and
/// carries out the returned ``LedgerEffects`` (closing connections, resuming waiting tasks)
/// after unlocking. Connections opened or closed are counted here at the moment of the
/// decision, so each server's ceiling holds even while the I/O is still in flight.
struct ConnectionLedger: ~Copyable {
    let settings: TenantPoolSettings
    private(set) var pools: [PlatformTenantID: TenantPool] = [:]
    /// Per server: connections open or being opened, and its ceiling as the latest lease
    /// for it said.
    private var servers: [ServerID: (open: Int, ceiling: Int)] = [:]
    /// Tasks waiting for a connection, in arrival order.
    private(set) var waiters: [Waiter] = []
    /// Connections open or being opened, all pools together, including leases of pools closed
    /// since (they close when returned). Never above the sum of the servers' ceilings.
    private(set) var openConnections = 0
    /// Connections leased, including leases of pools closed since.
    private(set) var busyConnections = 0
    private(set) var peakOpenConnections = 0
    private(set) var evictedConnections = 0
    private(set) var evictedPools = 0
    private(set) var isShutdown = false
    private var lastID: UInt64 = 0

    init(settings: TenantPoolSettings) {
        self.settings = settings
    }

    mutating func makeID() -> UInt64 {
        lastID += 1
        return lastID
    }

    // MARK: - Leasing

    enum LeaseDecision {
        case granted(Grant)
        case wait
        case failed(TenantConnectionError)
    }

    /// Decides a lease for `target`, opening its tenant's pool on first use, and again when
    /// the tenant has moved to another server since its pool opened.
    ///
    /// Anything a waiting task could take has been handed out already (every change ends with
    /// ``dispatch(now:into:)``), so a newcomer that finds something free is not jumping a
    /// queue.
    ///
    /// - Parameter resolveConninfo: starts asking the source for the tenant's conninfo; called
    ///   only when the pool opens.
    mutating func lease(_ target: TenantConnectionTarget, now: ContinuousClock.Instant,
                        resolveConninfo: (TenantConnectionTarget) -> Task<String, any Error>) -> (LeaseDecision, LedgerEffects) {
        var effects = LedgerEffects()
        if isShutdown { return (.failed(.shutdown(target)), effects) }
        openPool(target, now: now, resolveConninfo: resolveConninfo, into: &effects)
        return (grant(target.tenant, now: now, into: &effects).map(LeaseDecision.granted) ?? .wait, effects)
    }

    /// The tenant's pool, opened without a connection if it is not open (as a lease would
    /// open it), for what lives as long as the pool: its permission cache. Counts as a use.
    mutating func pool(for target: TenantConnectionTarget, now: ContinuousClock.Instant,
                       resolveConninfo: (TenantConnectionTarget) -> Task<String, any Error>)
        throws(TenantConnectionError) -> (pool: TenantPool, effects: LedgerEffects) {
        var effects = LedgerEffects()
        if isShutdown { throw .shutdown(target) }
        openPool(target, now: now, resolveConninfo: resolveConninfo, into: &effects)
        pools[target.tenant]!.lastUsed = now  // the cache's use keeps the pool, as a lease does
        return (pools[target.tenant]!, effects)
    }

    /// Opens the tenant's pool if it has none, or none on the server it is on now.
    private mutating func openPool(_ target: TenantConnectionTarget, now: ContinuousClock.Instant,
                                   resolveConninfo: (TenantConnectionTarget) -> Task<String, any Error>,
                                   into effects: inout LedgerEffects) {
        let ceiling = target.serverCeiling ?? settings.maximumConnections
        servers[target.server] = (servers[target.server]?.open ?? 0, ceiling)
        if let pool = pools[target.tenant], pool.target.server != target.server {
            // Moved: the old server's connections go (leased ones when returned).
            pools[target.tenant] = nil
            closeIdle(of: pool, into: &effects)
        }
        if pools[target.tenant] == nil {
            pools[target.tenant] = TenantPool(id: makeID(), target: target, conninfo: resolveConninfo(target), lastUsed: now)
        }
    }

    mutating func enqueue(_ waiter: Waiter) {
        waiters.append(waiter)
    }

    /// An idle connection of the tenant's pool, else a new slot: free under its server's
    /// ceiling or taken from the least recently used other pool's idle connection on that
    /// server. Nil when the tenant is at its own limit, or every connection under the
    /// server's ceiling is busy.
    private mutating func grant(_ tenant: PlatformTenantID, now: ContinuousClock.Instant,
                                into effects: inout LedgerEffects) -> Grant? {
        // Mutates the pool in place through the dictionary (no local copy of it), so taking
        // an idle connection does not copy the idle array.
        guard let poolID = pools[tenant]?.id else { return nil }
        let target = pools[tenant]!.target
        if let idle = pools[tenant]!.idle.popLast() {
            pools[tenant]!.leased += 1
            pools[tenant]!.lastUsed = now
            busyConnections += 1
            return .leased(TenantLease(connection: idle.connection, target: target, poolID: poolID))
        }
        guard pools[tenant]!.open < settings.tenantLimit else { return nil }
        var evicted: Connection?
        let server = servers[target.server] ?? (0, settings.maximumConnections)
        if server.open >= server.ceiling {
            guard let victim = evictLeastRecentlyUsedIdle(on: target.server, sparing: tenant, into: &effects) else { return nil }
            evicted = victim
        }
        count(+1, on: target.server)
        pools[tenant]!.opening += 1
        pools[tenant]!.lastUsed = now
        return .open(PendingOpen(target: target, poolID: poolID, conninfo: pools[tenant]!.conninfo, evicted: evicted))
    }

    /// Counts connections opened (positive) or closed (negative) on a server.
    private mutating func count(_ change: Int, on server: ServerID) {
        openConnections += change
        var load = servers[server] ?? (0, settings.maximumConnections)
        load.open += change
        servers[server] = load
        peakOpenConnections = max(peakOpenConnections, openConnections)
    }

    /// Takes the oldest idle connection of the least recently used pool on `server` other
    /// than `tenant`'s out of the counts, and closes that pool if nothing is left in it. The
    /// caller closes the connection.
    private mutating func evictLeastRecentlyUsedIdle(on server: ServerID, sparing tenant: PlatformTenantID,
                                                     into effects: inout LedgerEffects) -> Connection? {
        var victim: (tenant: PlatformTenantID, lastUsed: ContinuousClock.Instant)?
        for (id, pool) in pools where id != tenant && pool.target.server == server && !pool.idle.isEmpty {
            if victim == nil || pool.lastUsed < victim!.lastUsed { victim = (id, pool.lastUsed) }
        }
        guard let id = victim?.tenant else { return nil }
        let connection = pools[id]!.idle.removeFirst().connection
        count(-1, on: server)
        evictedConnections += 1
        if pools[id]!.open == 0 && !hasWaiters(id) {
            effects.closedPools.append(pools.removeValue(forKey: id)!.id)
            evictedPools += 1
        }
        return connection
    }

    /// Serves waiting tasks, oldest first, with whatever is free now. A task that cannot be
    /// served (its tenant is at its limit) does not hold up later tasks of other tenants;
    /// tasks that need a new slot are served in arrival order among themselves.
    private mutating func dispatch(now: ContinuousClock.Instant, into effects: inout LedgerEffects) {
        var index = 0
        while index < waiters.count {
            if let grant = grant(waiters[index].target.tenant, now: now, into: &effects) {
                effects.grants.append((waiters.remove(at: index).continuation, grant))
            } else {
                index += 1
            }
        }
    }

    // MARK: - Opening

    enum OpenOutcome {
        case leased(TenantLease)
        /// The pool was closed while the connection opened: close it and fail the task.
        case poolGone(TenantConnectionError, LedgerEffects)
    }

    /// A connection for `pending` is open: it becomes a lease of its pool.
    mutating func opened(_ pending: PendingOpen, _ connection: Connection,
                         now: ContinuousClock.Instant) -> OpenOutcome {
        let tenant = pending.target.tenant
        guard pools[tenant]?.id == pending.poolID else {
            count(-1, on: pending.target.server)
            var effects = LedgerEffects()
            effects.closing.append(connection)
            dispatch(now: now, into: &effects)
            let error: TenantConnectionError = isShutdown ? .shutdown(pending.target) : .poolClosed(pending.target)
            return .poolGone(error, effects)
        }
        pools[tenant]!.opening -= 1
        pools[tenant]!.leased += 1
        busyConnections += 1
        return .leased(TenantLease(connection: connection, target: pending.target, poolID: pending.poolID))
    }

    /// Opening a connection for `pending` failed: its slot is free again.
    ///
    /// A pool that could not get its conninfo, or has no connection left after a failed
    /// connect, is forgotten (its waiting tasks get the same error), so the next lease asks
    /// the source again: the credentials may have changed.
    mutating func openFailed(_ pending: PendingOpen, error: any Error, conninfoFailed: Bool,
                             now: ContinuousClock.Instant) -> LedgerEffects {
        var effects = LedgerEffects()
        let tenant = pending.target.tenant
        count(-1, on: pending.target.server)
        if pools[tenant]?.id == pending.poolID {
            pools[tenant]!.opening -= 1
            if conninfoFailed || pools[tenant]!.open == 0 {
                let pool = pools.removeValue(forKey: tenant)!
                closeIdle(of: pool, into: &effects)
                failWaiters(of: tenant, with: error, into: &effects)
            }
        }
        dispatch(now: now, into: &effects)
        return effects
    }

    // MARK: - Returning

    /// A lease comes back. A reusable connection stays idle if its pool keeps fewer than
    /// `poolSize` idle ones (overflow connections close), and goes first to a waiting task.
    mutating func release(_ lease: TenantLease, reusable: Bool, now: ContinuousClock.Instant) -> LedgerEffects {
        var effects = LedgerEffects()
        busyConnections -= 1
        let tenant = lease.target.tenant
        if pools[tenant]?.id == lease.poolID {
            pools[tenant]!.leased -= 1
            pools[tenant]!.lastUsed = now
            if reusable && pools[tenant]!.idle.count < settings.poolSize {
                pools[tenant]!.idle.append(IdleConnection(connection: lease.connection, since: now))
            } else {
                count(-1, on: lease.target.server)
                effects.closing.append(lease.connection)
            }
        } else {
            // Its pool was closed (or moved to another server) while it was leased.
            count(-1, on: lease.target.server)
            effects.closing.append(lease.connection)
        }
        dispatch(now: now, into: &effects)
        return effects
    }

    // MARK: - Giving up

    /// Removes a waiting task whose time ran out or that was cancelled, with the error it
    /// gets. Nil if it was served (or failed) in the meantime.
    mutating func expire(_ id: UInt64, cancelled: Bool) -> (CheckedContinuation<Grant, any Error>, any Error)? {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return nil }
        let waiter = waiters.remove(at: index)
        if cancelled { return (waiter.continuation, CancellationError()) }
        return (waiter.continuation, timeoutError(for: waiter.target))
    }

    /// Why a task waiting for `target` got nothing: its own pool is full, or its server's
    /// ceiling is.
    func timeoutError(for target: TenantConnectionTarget) -> TenantConnectionError {
        if let pool = pools[target.tenant], pool.open >= settings.tenantLimit {
            return .tenantLimitReached(target, busy: pool.leased, settings: settings)
        }
        let server = servers[target.server] ?? (0, settings.maximumConnections)
        let onServer = pools.values.filter { $0.target.server == target.server }
        return .ceilingReached(target, ceiling: server.ceiling, open: server.open,
                               busy: onServer.reduce(0) { $0 + $1.leased },
                               waiting: waiters.count + 1, settings: settings)
    }

    // MARK: - Closing

    /// Closes a tenant's pool: idle connections now, leased ones when they come back (they
    /// no longer match a pool), waiting tasks fail. The next lease opens a new pool.
    mutating func closePool(_ tenant: PlatformTenantID, now: ContinuousClock.Instant) -> LedgerEffects {
        var effects = LedgerEffects()
        guard let pool = pools.removeValue(forKey: tenant) else { return effects }
        closeIdle(of: pool, into: &effects)
        failWaiters(of: tenant, with: TenantConnectionError.poolClosed(pool.target), into: &effects)
        dispatch(now: now, into: &effects)
        return effects
    }

    /// Refuses new leases, closes every pool and fails every waiting task.
    mutating func shutdown() -> LedgerEffects {
        var effects = LedgerEffects()
        isShutdown = true
        for pool in pools.values { closeIdle(of: pool, into: &effects) }
        pools.removeAll()
        for waiter in waiters {
            effects.failures.append((waiter.continuation, TenantConnectionError.shutdown(waiter.target)))
        }
        waiters.removeAll()
        return effects
    }

    /// Closes idle connections unused for `idleConnectionTimeout`, and pools with no lease
    /// for `idlePoolTimeout`.
    mutating func reap(now: ContinuousClock.Instant) -> LedgerEffects {
        var effects = LedgerEffects()
        for tenant in Array(pools.keys) {
            let pool = pools[tenant]!
            if pool.isUnused && now - pool.lastUsed >= settings.idlePoolTimeout && !hasWaiters(tenant) {
                pools[tenant] = nil
                closeIdle(of: pool, into: &effects)
                continue
            }
            let expired = pool.idle.prefix { now - $0.since >= settings.idleConnectionTimeout }
            guard !expired.isEmpty else { continue }
            effects.closing += expired.map(\.connection)
            count(-expired.count, on: pool.target.server)
            pools[tenant]!.idle.removeFirst(expired.count)
        }
        dispatch(now: now, into: &effects)
        return effects
    }

    /// A pool is gone: its idle connections close, and so does what lived with it.
    private mutating func closeIdle(of pool: TenantPool, into effects: inout LedgerEffects) {
        effects.closedPools.append(pool.id)
        effects.closing += pool.idle.map(\.connection)
        count(-pool.idle.count, on: pool.target.server)
    }

    private mutating func failWaiters(of tenant: PlatformTenantID, with error: any Error, into effects: inout LedgerEffects) {
        waiters.removeAll { waiter in
            guard waiter.target.tenant == tenant else { return false }
            effects.failures.append((waiter.continuation, error))
            return true
        }
    }

    private func hasWaiters(_ tenant: PlatformTenantID) -> Bool {
        waiters.contains { $0.target.tenant == tenant }
    }

    // MARK: - Statistics

    var statistics: TenantConnectionStatistics {
        TenantConnectionStatistics(
            openConnections: openConnections,
            busyConnections: busyConnections,
            idleConnections: pools.values.reduce(0) { $0 + $1.idle.count },
            waitingTasks: waiters.count,
            pools: pools.mapValues { .init(open: $0.open, busy: $0.leased, idle: $0.idle.count) },
            serverConnections: servers.mapValues(\.open).filter { $0.value > 0 },
            peakOpenConnections: peakOpenConnections,
            evictedConnections: evictedConnections,
            evictedPools: evictedPools)
    }
}
