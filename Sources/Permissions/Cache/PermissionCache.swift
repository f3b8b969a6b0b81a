import Foundation
import Logging
import PQ
import Synchronization

/// Answers `hasPermission` in-process from cached rows of `auth.effective_access` and the
/// compiled catalogue, filling misses from the database and kept coherent by the schema's
/// change events (`LISTEN auth_access_changed`, sent at every COMMIT that changes an answer).
///
/// ```swift
/// let cache = PermissionCache(pool: pool)
/// try await withThrowingDiscardingTaskGroup { group in
///     group.addTask { try await cache.run() }  // listens until cancelled, reconnecting
///     if try await cache.hasPermission(tenant: tenant, user: user, code: "users.create_user") { ... }
/// }
/// ```
///
/// It never answers from memory when it cannot know that memory is current:
/// - until ``run()`` has subscribed, while the listening connection is down, and when it has
///   just come back (until it has subscribed again and dropped everything it held), every
///   check goes to the database;
/// - a fill that raced with a change event is used for its own call but not kept (an
///   invalidation epoch is read before the fill and compared after it);
/// - a code the cached catalogue does not know is checked by the database, so an unknown or
///   malformed code raises exactly the error of `auth.has_permission` (QN003, QI002);
/// - ``Consistency/database`` asks the database for one call;
/// - an ``AuthClient`` made with `cache:` drops what its own writes touched as soon as they
///   commit, before the change event arrives: a process sees its own writes at once.
/// Another process's change is seen once its event arrives (`pgperm bench` measures it).
/// Memory is bounded by ``Configuration/maximumMemberships``; when full, a membership not used
/// lately goes (CLOCK, the usual approximation of least recently used).
///
/// A hit takes one lock (of one of up to 16 shards, so checks on several cores rarely meet),
/// hashes the code and the member, and allocates nothing.
public final class PermissionCache: Sendable {
    public struct Configuration: Sendable {
        /// Cached memberships, at most; when full, one not used lately is evicted. Default 100,000.
        public var maximumMemberships: Int
        /// The listening connection's conninfo. Default: the pool's.
        public var listenerConninfo: String?
        /// The first wait before reconnecting a lost listener, doubled up to 5 seconds.
        /// Default 100 ms.
        public var reconnectDelay: Duration
        /// How often the listener proves it still receives events (a barrier through the
        /// pool); one that does not come back within this interval either counts as lost,
        /// so a silently dead link cannot keep the cache trusted. Default 5 seconds.
        public var heartbeatInterval: Duration

        public init(maximumMemberships: Int = 100_000, listenerConninfo: String? = nil,
                    reconnectDelay: Duration = .milliseconds(100), heartbeatInterval: Duration = .seconds(5)) {
            self.maximumMemberships = max(1, maximumMemberships)
            self.listenerConninfo = listenerConninfo
            self.reconnectDelay = reconnectDelay
            self.heartbeatInterval = heartbeatInterval
        }
    }

    /// Where one check's answer may come from.
    public enum Consistency: Sendable {
        /// From memory when the cache is current, else the database. The default.
        case cached
        /// From the database, as ``AuthClient/hasPermission(tenant:user:code:)``.
        case database
    }

    /// Counters since the cache was made.
    public struct Statistics: Sendable, Equatable, CustomStringConvertible {
        /// Checks answered from a cached membership.
        public var hits = 0
        /// Checks whose membership was not cached and was filled from the database.
        public var misses = 0
        /// Memberships dropped to stay within the maximum.
        public var evictions = 0
        /// Memberships dropped because a change event named them (or their tenant, or all).
        public var invalidations = 0
        /// Checks sent to the database: cache not trusted, ``Consistency/database``, a code the
        /// cached catalogue does not know.
        public var databaseChecks = 0
        /// Fills not kept because a change event arrived while they ran.
        public var discardedFills = 0
        /// Times the listener subscribed: once, plus once per reconnection.
        public var subscriptions = 0
        /// Memberships held now.
        public var memberships = 0
        /// Bytes the memberships held take: the arrays that store them, by capacity (not
        /// counting the allocator's own overhead, nor the catalogue).
        public var membershipBytes = 0
        /// Whether the cache answers from memory now.
        public var isTrusted = false

        public var description: String {
            "hits \(hits), misses \(misses), evictions \(evictions), invalidations \(invalidations), "
                + "database checks \(databaseChecks), discarded fills \(discardedFills), subscriptions \(subscriptions), "
                + "memberships \(memberships) (\(membershipBytes) bytes), "
                + (isTrusted ? "trusted" : "not trusted")
        }
    }

    /// What is not per shard: counters of the slow paths, and the barriers waiting.
    struct Control {
        var statistics = Statistics()
        var barriers: [String: CheckedContinuation<Void, any Error>] = [:]
    }

    public let configuration: Configuration
    /// Fills misses, answers what memory cannot, sends barriers.
    let executor: any QueryExecutor
    /// Where the listening connection goes (unless ``Configuration/listenerConninfo`` says).
    let listenerConninfo: @Sendable () async throws -> String
    let database: AuthClient
    let logger: Logger
    let shards: CacheShards
    /// Incremented by every invalidation, before it touches a shard: a fill is kept only if
    /// it did not move between the fill's start and its store (made under the shard's lock).
    let epoch = Atomic<UInt64>(0)
    let control = Mutex(Control())

    /// - Parameters:
    ///   - pool: fills misses and answers what the cache cannot; a role that may run
    ///     `auth.has_permission` reads everything the cache needs (`<prefix>_app`). The
    ///     listener connects with the pool's conninfo.
    ///   - logger: the listener's losses and reconnections, at info level.
    public convenience init(pool: ConnectionPool, configuration: Configuration = Configuration(), logger: Logger = .disabled) {
        let conninfo = pool.configuration.conninfo
        self.init(executor: pool, listenerConninfo: { conninfo }, configuration: configuration, logger: logger)
    }

    /// A cache over any executor: what the tenant platform uses, with a tenant's pool.
    ///
    /// - Parameters:
    ///   - executor: fills misses and answers what the cache cannot. Not a single
    ///     ``Connection`` held in a transaction: the cache must read committed state.
    ///   - listenerConninfo: the database of `executor`, for the listening connection; asked
    ///     at each (re)connection.
    public init(executor: any QueryExecutor, listenerConninfo: @escaping @Sendable () async throws -> String,
                configuration: Configuration = Configuration(), logger: Logger = .disabled) {
        self.executor = executor
        self.listenerConninfo = listenerConninfo
        self.database = AuthClient(executor)
        self.configuration = configuration
        self.logger = logger
        self.shards = CacheShards(maximumMemberships: configuration.maximumMemberships)
    }

    /// The counters, and how many memberships are held.
    public var statistics: Statistics {
        var statistics = control.withLock { $0.statistics }
        statistics.isTrusted = true
        for shard in shards.all {
            shard.state.withLock { state in
                statistics.hits += state.hits
                statistics.misses += state.misses
                statistics.invalidations += state.invalidations
                statistics.evictions += state.memberships.evictions
                statistics.memberships += state.memberships.count
                statistics.membershipBytes += state.memberships.bytes
                statistics.isTrusted = statistics.isTrusted && state.trusted
            }
        }
        return statistics
    }

    // MARK: - Checks

    /// ``AuthClient/hasPermission(tenant:user:code:)``, answered from memory when the cache is current.
    ///
    /// - Parameter consistency: `.database` to ask the database for this call. Default `.cached`.
    /// - Throws: the errors of `auth.has_permission` (`.unknownPermission`, `.invalidPermissionCode`),
    ///   ``PostgresError`` when the database is needed and unreachable.
    nonisolated(nonsending) public func hasPermission(tenant: TenantID, user: UserID, code: String,
                              consistency: Consistency = .cached) async throws -> Bool {
        let key = MemberKey(tenant: tenant, user: user)
        let found = consistency == .cached ? lookup(key, CollectionOfOne(code), requireAll: false) : .database
        if case .answer(let granted) = found { return granted }
        return try await resolve(found, key, [code], requireAll: false) {
            try await $0.hasPermission(tenant: tenant, user: user, code: code)
        }
    }

    /// ``AuthClient/hasPermissions(tenant:user:codes:requireAll:)``, answered from memory when the cache is current.
    nonisolated(nonsending) public func hasPermissions(tenant: TenantID, user: UserID, codes: [String], requireAll: Bool = false,
                               consistency: Consistency = .cached) async throws -> Bool {
        let key = MemberKey(tenant: tenant, user: user)
        let found = consistency == .cached ? lookup(key, codes, requireAll: requireAll) : .database
        if case .answer(let granted) = found { return granted }
        return try await resolve(found, key, codes, requireAll: requireAll) {
            try await $0.hasPermissions(tenant: tenant, user: user, codes: codes, requireAll: requireAll)
        }
    }

    /// Returns when the user holds `code`, else throws as ``AuthClient/requirePermission(tenant:user:code:)`` does.
    ///
    /// - Throws: ``PermissionsError`` `.insufficientPrivilege` (42501), naming user, tenant and code.
    nonisolated(nonsending) public func requirePermission(tenant: TenantID, user: UserID, code: String,
                                  consistency: Consistency = .cached) async throws {
        guard try await hasPermission(tenant: tenant, user: user, code: code, consistency: consistency) else {
            throw Self.denied(tenant, user, "permission '\(code)'")
        }
    }

    /// Returns when the user holds any of `codes` (all of them with `requireAll`), else throws
    /// `.insufficientPrivilege` (42501) as ``requirePermission(tenant:user:code:consistency:)`` does.
    nonisolated(nonsending) public func requirePermissions(tenant: TenantID, user: UserID, codes: [String], requireAll: Bool = false,
                                   consistency: Consistency = .cached) async throws {
        guard try await hasPermissions(tenant: tenant, user: user, codes: codes, requireAll: requireAll,
                                       consistency: consistency) else {
            let listed = codes.map { "'\($0)'" }.joined(separator: ", ")
            throw Self.denied(tenant, user, (requireAll ? "all of the permissions " : "any of the permissions ") + listed)
        }
    }

    private static func denied(_ tenant: TenantID, _ user: UserID, _ what: String) -> PermissionsError {
        PermissionsError(client: .insufficientPrivilege, "permission denied",
                         detail: "User \(user) does not hold \(what) in tenant \(tenant).",
                         hint: "Grant it with auth.assign_permission, through a permission set or a group; and check "
                             + "that the tenant, the user, the membership and the group are active.")
    }

    enum Lookup {
        case answer(Bool)
        /// Ask the database.
        case database
        case fillCatalogue(epoch: UInt64)
        /// The membership is not cached; the codes are in this catalogue.
        case fillMembership(epoch: UInt64, catalogue: CompiledCatalogue)
    }

    /// The in-memory step of a check, and the whole of a hit: one lock (the member's shard's),
    /// a hash of each code and one of the member, a binary search per ancestor; nothing allocated.
    @inline(__always)
    private func lookup<Codes: Collection<String>>(_ key: MemberKey, _ codes: Codes, requireAll: Bool) -> Lookup {
        let hash = shards.hash(key)
        return shards.withShard(hash: hash) { shard in shard.withLock { state in
            guard state.trusted, !codes.isEmpty else { return .database }
            guard state.hasCatalogue else { return .fillCatalogue(epoch: epoch.load(ordering: .acquiring)) }
            guard let entry = state.memberships.use(key, hash: hash) else {
                // Not cached. The codes must be known before a fill is worth it.
                for code in codes where state.catalogue.ancestors(of: code) == nil { return .database }
                state.misses += 1
                return .fillMembership(epoch: epoch.load(ordering: .acquiring), catalogue: state.catalogue)
            }
            // nil: a code the cached catalogue does not know. The database raises the check's
            // own error for it, or knows a code created since.
            guard let answer = Self.evaluate(codes, in: state.catalogue, requireAll: requireAll,
                                             isOwner: state.memberships.isOwner(entry),
                                             holds: { state.memberships.holds(entry, $0) }) else { return .database }
            state.hits += 1
            return .answer(answer)
        } }
    }

    /// The answer for a member; nil when a code is not in the catalogue. Inlined into the
    /// lookup, so the catalogue and the membership are read in place (no reference counting
    /// on storage every core shares).
    @inline(__always)
    private static func evaluate<Codes: Collection<String>>(_ codes: Codes, in catalogue: borrowing CompiledCatalogue,
                                                            requireAll: Bool, isOwner: Bool, holds: (Int32) -> Bool) -> Bool? {
        var granted = requireAll
        for code in codes {
            guard let ancestors = catalogue.ancestors(of: code) else { return nil }
            // Every code is looked up even once the answer is known, so an unknown one is never hidden.
            if catalogue.grants(ancestors, isOwner: isOwner, holds: holds) != requireAll { granted = !requireAll }
        }
        return granted
    }

    /// The slow path, from what the lookup found: fills what is missing, or asks the database.
    private func resolve<Codes: Collection<String>>(_ found: Lookup, _ key: MemberKey, _ codes: Codes, requireAll: Bool,
                                                    database ask: (AuthClient) async throws -> Bool) async throws -> Bool {
        var found = found
        for attempt in 0..<2 {
            switch found {
            case .answer(let granted):
                return granted
            case .database:
                break
            case .fillCatalogue(let epoch):
                try await fillCatalogue(since: epoch)
                if attempt == 0 {
                    found = lookup(key, codes, requireAll: requireAll)
                    continue
                }
            case .fillMembership(let epoch, let catalogue):
                // Answered from the fill only when nothing changed meanwhile: the catalogue
                // the codes were read from is then still the database's.
                if let membership = try await fillMembership(key, since: epoch),
                   let granted = Self.evaluate(codes, in: catalogue, requireAll: requireAll, isOwner: membership.isOwner,
                                               holds: { membership.permissionNos.binarySearch($0, in: membership.permissionNos.indices) }) {
                    return granted
                }
            }
            break
        }
        control.withLock { $0.statistics.databaseChecks += 1 }
        return try await ask(database)
    }

    /// Reads the catalogue; keeps it unless a change event arrived since `epoch`.
    private func fillCatalogue(since epoch: UInt64) async throws {
        let rows = try await executor.query("SELECT code::text, ancestor_nos::text FROM auth.permission", [], prepared: true)
        let catalogue = CompiledCatalogue(try rows.map { row in
            (code: try row.decode(String.self, at: 0), ancestorNos: Self.integers(try row.decode(String.self, at: 1)))
        })
        var kept = true
        for shard in shards.all {
            shard.state.withLock { state in
                guard state.trusted, self.epoch.load(ordering: .acquiring) == epoch else {
                    kept = false
                    return
                }
                state.setCatalogue(catalogue)
            }
        }
        if !kept { control.withLock { $0.statistics.discardedFills += 1 } }
    }

    /// Reads the member's row (none: no live membership); keeps it unless a change event
    /// arrived since `epoch`. Returns it when kept, nil when a change raced with it.
    func fillMembership(_ key: MemberKey, since epoch: UInt64) async throws -> CachedMembership? {
        let rows = try await executor.query("""
            SELECT is_owner, permission_nos::text FROM auth.effective_access WHERE tenant_id = $1 AND user_id = $2
            """, [key.tenant, key.user], prepared: true)
        var membership = CachedMembership.none
        if let row = rows.rows.first {
            membership = CachedMembership(isOwner: try row.decode(Bool.self, at: 0),
                                          permissionNos: Self.integers(try row.decode(String.self, at: 1)).sorted())
        }
        let hash = shards.hash(key)
        let kept = shards.withShard(hash: hash) { $0.withLock { state in
            guard state.trusted, self.epoch.load(ordering: .acquiring) == epoch else { return false }
            state.memberships.set(key, hash: hash, membership)
            return true
        } }
        guard kept else {
            control.withLock { $0.statistics.discardedFills += 1 }
            return nil
        }
        return membership
    }

    /// `{1,2,3}` → `[1, 2, 3]`.
    private static func integers(_ literal: String) -> [Int32] {
        literal.dropFirst().dropLast().split(separator: ",").compactMap { Int32($0) }
    }

    // MARK: - Invalidation

    /// Drops the tenant's cached memberships, e.g. after a change the schema does not notify
    /// (there is none today) or one made in a way this process knows of first.
    public func invalidate(tenant: TenantID) {
        apply(.tenant(tenant))
    }

    /// Drops everything held.
    public func invalidateAll() {
        apply(.all)
    }

    /// Applies one change event. The epoch moves first, so a fill running meanwhile is not
    /// kept even when it stores after the event has dropped the shard's entries.
    func apply(_ change: AccessChange) {
        switch change {
        case .members(let tenant, let users):
            epoch.add(1, ordering: .sequentiallyConsistent)
            for user in users {
                let key = MemberKey(tenant: tenant, user: user), hash = shards.hash(key)
                shards.withShard(hash: hash) { $0.withLock { state in
                    if state.memberships.remove(key, hash: hash) { state.invalidations += 1 }
                } }
            }
        case .tenant(let tenant):
            epoch.add(1, ordering: .sequentiallyConsistent)
            for shard in shards.all {
                shard.state.withLock { $0.invalidations += $0.memberships.remove(tenant: tenant) }
            }
        case .catalogue:
            epoch.add(1, ordering: .sequentiallyConsistent)
            for shard in shards.all { shard.state.withLock { $0.setCatalogue(nil) } }
        case .all:
            dropAll()
        case .barrier(let token):
            control.withLock { $0.barriers.removeValue(forKey: token) }?.resume()
        }
    }

    /// Forgets everything; nothing filled before now is kept. With `trusted`, also sets
    /// whether the shards may answer from memory.
    func dropAll(trusted: Bool? = nil) {
        epoch.add(1, ordering: .sequentiallyConsistent)
        for shard in shards.all {
            shard.state.withLock { state in
                state.dropAll()
                if let trusted { state.trusted = trusted }
            }
        }
    }
}
