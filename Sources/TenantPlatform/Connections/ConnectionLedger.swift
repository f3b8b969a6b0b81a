import PQ

/// The connection manager's whole state, and every decision about it: which connection a
/// task gets, when a slot under the ceiling is free, which idle connection to evict, which
/// waiting task goes next.
///
/// It does no I/O and never suspends: ``TenantConnectionManager`` calls it under one lock and
/// carries out the returned ``LedgerEffects`` (closing connections, resuming waiting tasks)
/// after unlocking. Connections opened or closed are counted here at the moment of the
/// decision, so the ceiling holds even while the I/O is still in flight.
struct ConnectionLedger: ~Copyable {
    let settings: TenantPoolSettings
    private(set) var pools: [String: TenantPool] = [:]
    /// Tasks waiting for a connection, in arrival order.
    private(set) var waiters: [Waiter] = []
    /// Connections open or being opened, all pools together, including leases of pools closed
    /// since (they close when returned). Never above `settings.maximumConnections`.
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

    /// Decides a lease for `tenant`, opening its pool on first use.
    ///
    /// Anything a waiting task could take has been handed out already (every change ends with
    /// ``dispatch(now:into:)``), so a newcomer that finds something free is not jumping a
    /// queue.
    ///
    /// - Parameter resolveConninfo: starts asking the source for the tenant's conninfo; called
    ///   only when the pool opens.
    mutating func lease(_ tenant: String, now: ContinuousClock.Instant,
                        resolveConninfo: (String) -> Task<String, any Error>) -> LeaseDecision {
        if isShutdown { return .failed(.shutdown(tenant: tenant)) }
        if pools[tenant] == nil {
            pools[tenant] = TenantPool(id: makeID(), conninfo: resolveConninfo(tenant), lastUsed: now)
        }
        return grant(tenant, now: now).map(LeaseDecision.granted) ?? .wait
    }

    mutating func enqueue(_ waiter: Waiter) {
        waiters.append(waiter)
    }

    /// An idle connection of the tenant's pool, else a new slot: free under the ceiling or
    /// taken from the least recently used other pool's idle connection. Nil when the tenant
    /// is at its own limit, or every connection under the ceiling is busy.
    private mutating func grant(_ tenant: String, now: ContinuousClock.Instant) -> Grant? {
        // Mutates the pool in place through the dictionary (no local copy of it), so taking
        // an idle connection does not copy the idle array.
        guard let poolID = pools[tenant]?.id else { return nil }
        if let idle = pools[tenant]!.idle.popLast() {
            pools[tenant]!.leased += 1
            pools[tenant]!.lastUsed = now
            busyConnections += 1
            return .leased(TenantLease(connection: idle.connection, tenant: tenant, poolID: poolID))
        }
        guard pools[tenant]!.open < settings.tenantLimit else { return nil }
        var evicted: Connection?
        if openConnections >= settings.maximumConnections {
            guard let victim = evictLeastRecentlyUsedIdle(sparing: tenant) else { return nil }
            evicted = victim
        }
        openConnections += 1
        peakOpenConnections = max(peakOpenConnections, openConnections)
        pools[tenant]!.opening += 1
        pools[tenant]!.lastUsed = now
        return .open(PendingOpen(tenant: tenant, poolID: poolID, conninfo: pools[tenant]!.conninfo, evicted: evicted))
    }

    /// Takes the oldest idle connection of the least recently used pool other than `tenant`'s
    /// out of the counts, and closes that pool if nothing is left in it. The caller closes
    /// the connection.
    private mutating func evictLeastRecentlyUsedIdle(sparing tenant: String) -> Connection? {
        var victim: (slug: String, lastUsed: ContinuousClock.Instant)?
        for (slug, pool) in pools where slug != tenant && !pool.idle.isEmpty {
            if victim == nil || pool.lastUsed < victim!.lastUsed { victim = (slug, pool.lastUsed) }
        }
        guard let slug = victim?.slug else { return nil }
        let connection = pools[slug]!.idle.removeFirst().connection
        openConnections -= 1
        evictedConnections += 1
        if pools[slug]!.open == 0 && !hasWaiters(slug) {
            pools[slug] = nil
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
            if let grant = grant(waiters[index].tenant, now: now) {
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
        guard pools[pending.tenant]?.id == pending.poolID else {
            openConnections -= 1
            var effects = LedgerEffects()
            effects.closing.append(connection)
            dispatch(now: now, into: &effects)
            let error: TenantConnectionError = isShutdown ? .shutdown(tenant: pending.tenant) : .poolClosed(tenant: pending.tenant)
            return .poolGone(error, effects)
        }
        pools[pending.tenant]!.opening -= 1
        pools[pending.tenant]!.leased += 1
        busyConnections += 1
        return .leased(TenantLease(connection: connection, tenant: pending.tenant, poolID: pending.poolID))
    }

    /// Opening a connection for `pending` failed: its slot is free again.
    ///
    /// A pool that could not get its conninfo, or has no connection left after a failed
    /// connect, is forgotten (its waiting tasks get the same error), so the next lease asks
    /// the source again: the credentials may have changed.
    mutating func openFailed(_ pending: PendingOpen, error: any Error, conninfoFailed: Bool,
                             now: ContinuousClock.Instant) -> LedgerEffects {
        var effects = LedgerEffects()
        openConnections -= 1
        if pools[pending.tenant]?.id == pending.poolID {
            pools[pending.tenant]!.opening -= 1
            if conninfoFailed || pools[pending.tenant]!.open == 0 {
                let pool = pools.removeValue(forKey: pending.tenant)!
                closeIdle(of: pool, into: &effects)
                failWaiters(of: pending.tenant, with: error, into: &effects)
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
        if pools[lease.tenant]?.id == lease.poolID {
            pools[lease.tenant]!.leased -= 1
            pools[lease.tenant]!.lastUsed = now
            if reusable && pools[lease.tenant]!.idle.count < settings.poolSize {
                pools[lease.tenant]!.idle.append(IdleConnection(connection: lease.connection, since: now))
            } else {
                openConnections -= 1
                effects.closing.append(lease.connection)
            }
        } else {
            // Its pool was closed while it was leased.
            openConnections -= 1
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
        return (waiter.continuation, timeoutError(for: waiter.tenant))
    }

    /// Why a task waiting for `tenant` got nothing: its own pool is full, or the ceiling is.
    func timeoutError(for tenant: String) -> TenantConnectionError {
        if let pool = pools[tenant], pool.open >= settings.tenantLimit {
            return .tenantLimitReached(tenant: tenant, busy: pool.leased, settings: settings)
        }
        return .ceilingReached(tenant: tenant, open: openConnections, busy: busyConnections,
                               waiting: waiters.count + 1, settings: settings)
    }

    // MARK: - Closing

    /// Closes a tenant's pool: idle connections now, leased ones when they come back (they
    /// no longer match a pool), waiting tasks fail. The next lease opens a new pool.
    mutating func closePool(_ tenant: String, now: ContinuousClock.Instant) -> LedgerEffects {
        var effects = LedgerEffects()
        guard let pool = pools.removeValue(forKey: tenant) else { return effects }
        closeIdle(of: pool, into: &effects)
        failWaiters(of: tenant, with: TenantConnectionError.poolClosed(tenant: tenant), into: &effects)
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
            effects.failures.append((waiter.continuation, TenantConnectionError.shutdown(tenant: waiter.tenant)))
        }
        waiters.removeAll()
        return effects
    }

    /// Closes idle connections unused for `idleConnectionTimeout`, and pools with no lease
    /// for `idlePoolTimeout`.
    mutating func reap(now: ContinuousClock.Instant) -> LedgerEffects {
        var effects = LedgerEffects()
        for slug in Array(pools.keys) {
            let pool = pools[slug]!
            if pool.isUnused && now - pool.lastUsed >= settings.idlePoolTimeout && !hasWaiters(slug) {
                pools[slug] = nil
                closeIdle(of: pool, into: &effects)
                continue
            }
            let expired = pool.idle.prefix { now - $0.since >= settings.idleConnectionTimeout }
            guard !expired.isEmpty else { continue }
            effects.closing += expired.map(\.connection)
            openConnections -= expired.count
            pools[slug]!.idle.removeFirst(expired.count)
        }
        dispatch(now: now, into: &effects)
        return effects
    }

    private mutating func closeIdle(of pool: TenantPool, into effects: inout LedgerEffects) {
        effects.closing += pool.idle.map(\.connection)
        openConnections -= pool.idle.count
    }

    private mutating func failWaiters(of tenant: String, with error: any Error, into effects: inout LedgerEffects) {
        waiters.removeAll { waiter in
            guard waiter.tenant == tenant else { return false }
            effects.failures.append((waiter.continuation, error))
            return true
        }
    }

    private func hasWaiters(_ tenant: String) -> Bool {
        waiters.contains { $0.tenant == tenant }
    }

    // MARK: - Statistics

    var statistics: TenantConnectionStatistics {
        TenantConnectionStatistics(
            openConnections: openConnections,
            busyConnections: busyConnections,
            idleConnections: pools.values.reduce(0) { $0 + $1.idle.count },
            waitingTasks: waiters.count,
            pools: pools.mapValues { .init(open: $0.open, busy: $0.leased, idle: $0.idle.count) },
            peakOpenConnections: peakOpenConnections,
            evictedConnections: evictedConnections,
            evictedPools: evictedPools)
    }
}
