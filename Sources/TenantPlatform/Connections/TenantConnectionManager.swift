import Logging
import Permissions
import PQ
import Synchronization

/// Connections to every tenant's database, pooled per tenant under one global ceiling.
///
/// - A tenant's pool opens on its first lease: only then is the
///   ``TenantConnectionSource`` asked for its conninfo (decrypting credentials), once per pool.
/// - A pool keeps up to ``TenantPoolSettings/poolSize`` idle connections and opens up to
///   ``TenantPoolSettings/maxOverflow`` more under load; those close when returned.
/// - Open connections across all tenants never exceed
///   ``TenantPoolSettings/maximumConnections``. At the ceiling a new connection takes the slot
///   of an idle connection of the least recently used other pool (a pool left empty closes);
///   if every connection is busy the task waits, in arrival order, up to
///   ``TenantPoolSettings/acquireTimeout``, then gets a ``TenantConnectionError`` saying so.
/// - A background task closes connections idle for
///   ``TenantPoolSettings/idleConnectionTimeout`` and pools unused for
///   ``TenantPoolSettings/idlePoolTimeout``. It is a timer rather than a sweep on each lease
///   because reclaiming matters most when traffic has stopped, when no lease would sweep.
/// - A tenant's ``PermissionCache`` (``permissionCache(for:)``) lives with its pool: its
///   listening connection opens with the first use of the cache and closes when the pool
///   closes (idle reclaim, eviction, suspension, deletion, a move, shutdown). That
///   connection is one per tenant in use, outside the pool and its ceiling.
///
/// Leasing takes one lock, not an actor hop: it is on the hot path of every request. The
/// state and all decisions live in ``ConnectionLedger``; this type does the I/O.
public final class TenantConnectionManager: Sendable {
    public let settings: TenantPoolSettings
    private let source: any TenantConnectionSource
    let logger: Logger
    let ledger: Mutex<ConnectionLedger>
    private let reaper = Mutex<Task<Void, Never>?>(nil)
    /// Permission caches by tenant, each tied to the pool it was made for.
    let caches = Mutex<[PlatformTenantID: TenantPermissionCache]>([:])

    /// - Parameters:
    ///   - settings: sizes and timeouts; default ``TenantPoolSettings/init(poolSize:maxOverflow:maximumConnections:acquireTimeout:idleConnectionTimeout:idlePoolTimeout:)``.
    ///   - source: gives a tenant's conninfo when its pool opens.
    ///   - logger: pools opening and closing at debug level, evictions and timeouts at info.
    public init(settings: TenantPoolSettings = TenantPoolSettings(), source: any TenantConnectionSource,
                logger: Logger = .disabled) {
        self.settings = settings
        self.source = source
        self.logger = logger
        self.ledger = Mutex(ConnectionLedger(settings: settings))
        startReaper()
    }

    deinit {
        reaper.withLock { $0?.cancel() }
    }

    /// A snapshot of connections and pools.
    public var statistics: TenantConnectionStatistics {
        ledger.withLock { $0.statistics }
    }

    // MARK: - Leasing

    /// Leases a connection to the tenant's database for the duration of `body`.
    ///
    /// Unless the caller is isolated to an actor, `body` runs on the connection's own thread,
    /// so its queries need no thread switch (as with ``ConnectionPool``). The connection goes
    /// back to the pool afterwards; if it broke or is still inside a transaction it is closed
    /// instead.
    ///
    /// - Throws: ``TenantConnectionError`` when no connection became free within the acquire
    ///   timeout, the pool was closed or the manager shut down; `CancellationError` if the task
    ///   was cancelled while waiting; the source's error if the pool could not get its
    ///   conninfo; ``TenantConnectionError/Code/serverUnavailable`` when the tenant's server did
    ///   not answer, ``PostgresError`` if it refused the connection; and whatever `body` throws.
    @discardableResult
    public func withConnection<T: Sendable>(
        to target: TenantConnectionTarget,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (Connection) async throws -> T
    ) async throws -> T {
        let lease = try await lease(target)
        do {
            let value = try await withTaskExecutorPreference(lease.connection.taskExecutor) {
                try await body(lease.connection)
            }
            await release(lease)
            return value
        } catch {
            await release(lease)
            throw error
        }
    }

    /// Leases a connection to the tenant's database and runs `body` in a transaction on it
    /// (see ``Connection/withTransaction(begin:isolation:_:)``).
    public func withTransaction<T: Sendable>(
        to target: TenantConnectionTarget,
        begin: String = "BEGIN",
        isolation: isolated (any Actor)? = #isolation,
        _ body: (Connection) async throws -> T
    ) async throws -> T {
        try await withConnection(to: target) { connection in
            try await connection.withTransaction(begin: begin, body)
        }
    }

    /// A lease whose connection the server still holds: one it ended while idle (a restart,
    /// a suspension's `pg_terminate_backend`) is closed and replaced, so the request never
    /// sees it.
    private func lease(_ target: TenantConnectionTarget) async throws -> TenantLease {
        while true {
            let lease = try await leaseAny(target)
            if lease.connection.isAliveWhileIdle { return lease }
            logger.info("replacing a tenant connection the server closed", metadata: ["tenant": "\(target.name)"])
            await release(lease)  // not reusable: closed, and its slot freed
        }
    }

    private func leaseAny(_ target: TenantConnectionTarget) async throws -> TenantLease {
        let (decision, effects) = ledger.withLock { $0.lease(target, now: .now, resolveConninfo: resolveConninfo) }
        await perform(effects)
        switch decision {
        case .granted(let grant): return try await take(grant)
        case .failed(let error): throw error
        case .wait: return try await take(waitForGrant(target))
        }
    }

    /// Asks the source for a tenant's conninfo, once per pool opening.
    func resolveConninfo(_ target: TenantConnectionTarget) -> Task<String, any Error> {
        logger.debug("opening tenant pool", metadata: ["tenant": "\(target.name)", "server": "\(target.serverName)"])
        return Task { [source] in try await source.connectionInfo(for: target) }
    }

    private func take(_ grant: Grant) async throws -> TenantLease {
        switch grant {
        case .leased(let lease): return lease
        case .open(let pending): return try await open(pending)
        }
    }

    /// Opens a connection in a slot the ledger reserved, after closing the idle connection
    /// evicted for it, so the server never sees more connections than the ceiling.
    private func open(_ pending: PendingOpen) async throws -> TenantLease {
        if let evicted = pending.evicted {
            logger.info("evicting an idle connection to make room", metadata: ["tenant": "\(pending.target.name)"])
            await evicted.close()
        }
        let conninfo: String
        do {
            conninfo = try await pending.conninfo.value
        } catch {
            await openFailed(pending, error: error, conninfoFailed: true)
            throw error
        }
        let connection: Connection
        do {
            connection = try await Connection.connect(conninfo, logger: logger)
        } catch let error as PostgresError where error.isServerUnreachable {
            await openFailed(pending, error: error, conninfoFailed: false)
            throw TenantConnectionError.serverUnavailable(pending.target, reason: error.message)
        } catch {
            await openFailed(pending, error: error, conninfoFailed: false)
            throw error
        }
        switch ledger.withLock({ $0.opened(pending, connection, now: .now) }) {
        case .leased(let lease):
            return lease
        case .poolGone(let error, let effects):
            await perform(effects)
            throw error
        }
    }

    private func openFailed(_ pending: PendingOpen, error: any Error, conninfoFailed: Bool) async {
        logger.info("could not open a tenant connection",
                    metadata: ["tenant": "\(pending.target.name)", "error": "\(error)"])
        let effects = ledger.withLock {
            $0.openFailed(pending, error: error, conninfoFailed: conninfoFailed, now: .now)
        }
        await perform(effects)
    }

    // MARK: - Waiting

    /// Waits in line until the ledger grants a connection or a slot, the acquire timeout
    /// passes, the task is cancelled, or the pool closes.
    private func waitForGrant(_ target: TenantConnectionTarget) async throws -> Grant {
        let id = ledger.withLock { $0.makeID() }
        let deadline = ContinuousClock.now + settings.acquireTimeout
        let timer = Task { [weak self] in
            try await Task.sleep(until: deadline)
            self?.expire(id, cancelled: false)
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                // Decide again under the lock: something may have come free since the first
                // decision. A cancellation or a timer that fired before this point found no
                // waiter to remove, so both are checked here.
                let (decision, effects): (ConnectionLedger.LeaseDecision?, LedgerEffects) = ledger.withLock { ledger in
                    if Task.isCancelled { return (nil, LedgerEffects()) }
                    if ContinuousClock.now >= deadline { return (.failed(ledger.timeoutError(for: target)), LedgerEffects()) }
                    let (decision, effects) = ledger.lease(target, now: .now, resolveConninfo: resolveConninfo)
                    if case .wait = decision {
                        ledger.enqueue(Waiter(id: id, target: target, continuation: continuation))
                    }
                    return (decision, effects)
                }
                // Only a pool moved to another server in the meantime leaves connections to close.
                if !effects.closing.isEmpty || !effects.closedPools.isEmpty { Task { await perform(effects) } }
                switch decision {
                case nil: continuation.resume(throwing: CancellationError())
                case .granted(let grant): continuation.resume(returning: grant)
                case .failed(let error): continuation.resume(throwing: error)
                case .wait: break
                }
            }
        } onCancel: {
            self.expire(id, cancelled: true)
        }
    }

    private func expire(_ id: UInt64, cancelled: Bool) {
        guard let (continuation, error) = ledger.withLock({ $0.expire(id, cancelled: cancelled) }) else { return }
        if !cancelled { logger.info("no tenant connection became free in time", metadata: ["error": "\(error)"]) }
        continuation.resume(throwing: error)
    }

    // MARK: - Returning and closing

    private func release(_ lease: TenantLease) async {
        let reusable = lease.connection.isUsable && lease.connection.transactionState == .idle
        let effects = ledger.withLock { $0.release(lease, reusable: reusable, now: .now) }
        await perform(effects)
    }

    /// Closes a tenant's pool, as when the tenant is suspended or deleted: idle connections
    /// close now, leased ones when they are returned, and tasks waiting for the tenant fail
    /// with ``TenantConnectionError/Code/poolClosed``. A later lease opens a new pool, asking
    /// the source again.
    public func closePool(tenant: PlatformTenantID) async {
        logger.debug("closing tenant pool", metadata: ["tenant": "\(tenant)"])
        await perform(ledger.withLock { $0.closePool(tenant, now: .now) })
    }

    /// Closes every pool, fails waiting tasks, stops the reaper and refuses new leases.
    /// Leased connections close when they are returned.
    public func shutdown() async {
        reaper.withLock { $0?.cancel() }
        await perform(ledger.withLock { $0.shutdown() })
    }

    /// Closes connections first, so a task granted their slot connects after the server has
    /// let them go, then resumes waiting tasks.
    func perform(_ effects: LedgerEffects) async {
        await stopCaches(ofPools: effects.closedPools)
        for connection in effects.closing { await connection.close() }
        for (continuation, grant) in effects.grants { continuation.resume(returning: grant) }
        for (continuation, error) in effects.failures { continuation.resume(throwing: error) }
    }

    // MARK: - Idle reclaim

    /// Starts the task that closes idle connections and pools. It holds the manager weakly,
    /// so a manager dropped without ``shutdown()`` still goes away.
    private func startReaper() {
        let interval = Self.reapInterval(settings)
        let task = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard let self else { return }
                await self.reap()
            }
        }
        reaper.withLock { $0 = task }
    }

    /// Half the shorter idle timeout, so nothing stays idle much more than 1.5 times its
    /// timeout; between 10 milliseconds and a minute.
    static func reapInterval(_ settings: TenantPoolSettings) -> Duration {
        let half = min(settings.idleConnectionTimeout, settings.idlePoolTimeout) / 2
        return min(max(half, .milliseconds(10)), .seconds(60))
    }

    private func reap() async {
        await perform(ledger.withLock { $0.reap(now: .now) })
    }
}
