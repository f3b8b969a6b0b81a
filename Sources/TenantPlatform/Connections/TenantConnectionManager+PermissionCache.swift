import Permissions
import PQ

/// A tenant's permission cache, and the pool it lives with.
struct TenantPermissionCache: Sendable {
    let poolID: UInt64
    let cache: PermissionCache
    let listener: Task<Void, Never>
}

extension TenantConnectionManager {
    /// The tenant's ``PermissionCache``: checks answered in-process, kept current by a
    /// listening connection to the tenant's database, and filled through the tenant's pool.
    ///
    /// The cache lives with the tenant's pool (opened here if needed, without a connection):
    /// the first call starts its listener; closing the pool (``closePool(tenant:)``, the
    /// idle reclaim, an eviction, a move, ``shutdown()``) stops it and closes its connection.
    /// A call after that gets a new cache with the new pool. Until the listener has
    /// subscribed, checks go to the database. Each call counts as a use of the pool (answers
    /// from memory lease nothing), so ask for the cache per request rather than keeping it.
    ///
    /// - Throws: ``TenantConnectionError/Code/shutdown`` after ``shutdown()``.
    public func permissionCache(for target: TenantConnectionTarget) async throws -> PermissionCache {
        // Under the ledger's lock, so the pool cannot close between finding it and recording
        // its cache: every pool closed later names the cache to stop.
        let (cache, replaced, effects) = try ledger.withLock { ledger in
            let (pool, effects) = try ledger.pool(for: target, now: .now, resolveConninfo: resolveConninfo)
            let (cache, replaced) = caches.withLock { caches -> (PermissionCache, TenantPermissionCache?) in
                if let entry = caches[target.tenant], entry.poolID == pool.id { return (entry.cache, nil) }
                let conninfo = pool.conninfo
                let cache = PermissionCache(
                    executor: TenantPoolExecutor(manager: self, target: target),
                    listenerConninfo: { try await conninfo.value },
                    configuration: .init(maximumMemberships: settings.cachedMembershipsPerTenant), logger: logger)
                let entry = TenantPermissionCache(poolID: pool.id, cache: cache, listener: Task { await cache.run() })
                return (cache, caches.updateValue(entry, forKey: target.tenant))
            }
            return (cache, replaced, effects)
        }
        if let replaced { await Self.stop(replaced) }
        await perform(effects)
        return cache
    }

    /// The tenant's cache if it has one now (with its current pool); nil otherwise. What an
    /// ``AuthClient`` that writes is given, so a write drops what the cache holds at COMMIT
    /// (``AuthClient/init(_:cache:)``) without starting a listener for a tenant nobody checks.
    public func existingPermissionCache(for target: TenantConnectionTarget) -> PermissionCache? {
        caches.withLock { $0[target.tenant]?.cache }
    }

    /// Stops the listeners of caches whose pools closed, and waits until their connections are
    /// closed (a database about to be dropped must have no session left).
    func stopCaches(ofPools poolIDs: [UInt64]) async {
        guard !poolIDs.isEmpty else { return }
        let closed = Set(poolIDs)
        let stopped = caches.withLock { caches in
            let stopped = caches.filter { closed.contains($0.value.poolID) }
            for tenant in stopped.keys { caches[tenant] = nil }
            return Array(stopped.values)
        }
        for entry in stopped { await Self.stop(entry) }
    }

    private static func stop(_ entry: TenantPermissionCache) async {
        entry.listener.cancel()
        await entry.listener.value
    }
}

/// Runs each statement on a connection leased from a tenant's pool: how a tenant's
/// ``PermissionCache`` reads. Holds the manager weakly, so a cache kept by someone does not
/// keep the manager alive.
final class TenantPoolExecutor: QueryExecutor {
    private weak let manager: TenantConnectionManager?
    private let target: TenantConnectionTarget

    init(manager: TenantConnectionManager, target: TenantConnectionTarget) {
        self.manager = manager
        self.target = target
    }

    func query(_ sql: String, _ binds: [any PostgresEncodable], prepared: Bool) async throws -> QueryResult {
        guard let manager else { throw TenantConnectionError.shutdown(target) }
        return try await manager.withConnection(to: target) { try await $0.query(sql, binds, prepared: prepared) }
    }
}
