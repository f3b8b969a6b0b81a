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
/// Memory is bounded by ``Configuration/maximumMemberships``, least recently used first out.
public final class PermissionCache: Sendable {
    public struct Configuration: Sendable {
        /// Cached memberships, at most; the least recently used is evicted. Default 100,000.
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
        /// Whether the cache answers from memory now.
        public var isTrusted = false

        public var description: String {
            "hits \(hits), misses \(misses), evictions \(evictions), invalidations \(invalidations), "
                + "database checks \(databaseChecks), discarded fills \(discardedFills), subscriptions \(subscriptions), "
                + "memberships \(memberships), "
                + (isTrusted ? "trusted" : "not trusted")
        }
    }

    struct State: ~Copyable {
        var trusted = false
        /// Incremented by every invalidation; a fill is kept only if it did not move meanwhile.
        var epoch: UInt64 = 0
        /// Code → `ancestor_nos` (its own number last); nil until filled.
        var catalogue: [String: [Int32]]?
        var memberships: MembershipStore
        var statistics = Statistics()
        var barriers: [String: CheckedContinuation<Void, any Error>] = [:]

        init(maximumMemberships: Int) {
            memberships = MembershipStore(capacity: maximumMemberships)
        }

        /// Forgets everything; nothing filled before now can be kept.
        mutating func dropAll() {
            epoch += 1
            statistics.invalidations += memberships.removeAll()
            catalogue = nil
        }
    }

    public let configuration: Configuration
    let pool: ConnectionPool
    let database: AuthClient
    let logger: Logger
    let state: Mutex<State>

    /// - Parameters:
    ///   - pool: fills misses and answers what the cache cannot; a role that may run
    ///     `auth.has_permission` reads everything the cache needs (`<prefix>_app`).
    ///   - logger: the listener's losses and reconnections, at info level.
    public init(pool: ConnectionPool, configuration: Configuration = Configuration(), logger: Logger = .disabled) {
        self.pool = pool
        self.database = AuthClient(pool)
        self.configuration = configuration
        self.logger = logger
        self.state = Mutex(State(maximumMemberships: configuration.maximumMemberships))
    }

    /// The counters, and how many memberships are held.
    public var statistics: Statistics {
        state.withLock { state in
            var statistics = state.statistics
            statistics.evictions = state.memberships.evictions
            statistics.memberships = state.memberships.count
            statistics.isTrusted = state.trusted
            return statistics
        }
    }

    // MARK: - Checks

    /// ``AuthClient/hasPermission(tenant:user:code:)``, answered from memory when the cache is current.
    ///
    /// - Parameter consistency: `.database` to ask the database for this call. Default `.cached`.
    /// - Throws: the errors of `auth.has_permission` (`.unknownPermission`, `.invalidPermissionCode`),
    ///   ``PostgresError`` when the database is needed and unreachable.
    public func hasPermission(tenant: TenantID, user: UserID, code: String,
                              consistency: Consistency = .cached) async throws -> Bool {
        if consistency == .cached, let granted = cachedAnswer(tenant, user, code) { return granted }
        let found = consistency == .cached ? lookup(tenant, user, [code], requireAll: false) : .database
        if case .answer(let granted) = found { return granted }
        return try await resolve(found, tenant, user, [code], requireAll: false) {
            try await $0.hasPermission(tenant: tenant, user: user, code: code)
        }
    }

    /// ``AuthClient/hasPermissions(tenant:user:codes:requireAll:)``, answered from memory when the cache is current.
    public func hasPermissions(tenant: TenantID, user: UserID, codes: [String], requireAll: Bool = false,
                               consistency: Consistency = .cached) async throws -> Bool {
        let found = consistency == .cached ? lookup(tenant, user, codes, requireAll: requireAll) : .database
        if case .answer(let granted) = found { return granted }
        return try await resolve(found, tenant, user, codes, requireAll: requireAll) {
            try await $0.hasPermissions(tenant: tenant, user: user, codes: codes, requireAll: requireAll)
        }
    }

    /// Returns when the user holds `code`, else throws as ``AuthClient/requirePermission(tenant:user:code:)`` does.
    ///
    /// - Throws: ``PermissionsError`` `.insufficientPrivilege` (42501), naming user, tenant and code.
    public func requirePermission(tenant: TenantID, user: UserID, code: String,
                                  consistency: Consistency = .cached) async throws {
        guard try await hasPermission(tenant: tenant, user: user, code: code, consistency: consistency) else {
            throw PermissionsError(client: .insufficientPrivilege, "permission denied",
                                   detail: "User \(user) does not hold permission '\(code)' in tenant \(tenant).",
                                   hint: "Grant it with auth.assign_permission, through a permission set or a group; and check "
                                       + "that the tenant, the user, the membership and the group are active.")
        }
    }

    enum Lookup {
        case answer(Bool)
        /// Ask the database.
        case database
        case fillCatalogue(epoch: UInt64)
        /// The membership is not cached; the codes' ancestors are known.
        case fillMembership(epoch: UInt64, ancestors: [[Int32]])
    }

    /// The hit path of a single-code check, without allocating: nil unless answered from memory.
    private func cachedAnswer(_ tenant: TenantID, _ user: UserID, _ code: String) -> Bool? {
        state.withLock { state in
            guard state.trusted, let ancestors = state.catalogue?[code],
                  let membership = state.memberships.get(tenant: tenant, user: user) else { return nil }
            state.statistics.hits += 1
            return membership.grants(ancestors)
        }
    }

    /// The in-memory step of a check: one lock, two hash lookups, a binary search per ancestor.
    private func lookup(_ tenant: TenantID, _ user: UserID, _ codes: [String], requireAll: Bool) -> Lookup {
        state.withLock { state in
            guard state.trusted, !codes.isEmpty else { return .database }
            guard let catalogue = state.catalogue else { return .fillCatalogue(epoch: state.epoch) }
            var ancestors: [[Int32]] = []
            ancestors.reserveCapacity(codes.count)
            for code in codes {
                // Not in the cached catalogue: the database raises the check's own error, or
                // knows a code created since.
                guard let nos = catalogue[code] else { return .database }
                ancestors.append(nos)
            }
            guard let membership = state.memberships.get(tenant: tenant, user: user) else {
                state.statistics.misses += 1
                return .fillMembership(epoch: state.epoch, ancestors: ancestors)
            }
            state.statistics.hits += 1
            return .answer(Self.evaluate(membership, ancestors, requireAll: requireAll))
        }
    }

    private static func evaluate(_ membership: CachedMembership, _ ancestors: [[Int32]], requireAll: Bool) -> Bool {
        requireAll ? ancestors.allSatisfy(membership.grants) : ancestors.contains(where: membership.grants)
    }

    /// The slow path, from what the lookup found: fills what is missing, or asks the database.
    private func resolve(_ found: Lookup, _ tenant: TenantID, _ user: UserID, _ codes: [String], requireAll: Bool,
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
                    found = lookup(tenant, user, codes, requireAll: requireAll)
                    continue
                }
            case .fillMembership(let epoch, let ancestors):
                let membership = try await fillMembership(tenant, user, since: epoch)
                return Self.evaluate(membership, ancestors, requireAll: requireAll)
            }
            break
        }
        state.withLock { $0.statistics.databaseChecks += 1 }
        return try await ask(database)
    }

    /// Reads the catalogue; keeps it unless a change event arrived since `epoch`.
    private func fillCatalogue(since epoch: UInt64) async throws {
        let rows = try await pool.query("SELECT code::text, ancestor_nos::text FROM auth.permission", [], prepared: true)
        var catalogue: [String: [Int32]] = [:]
        catalogue.reserveCapacity(rows.count)
        for row in rows {
            catalogue[try row.decode(String.self, at: 0)] = Self.integers(try row.decode(String.self, at: 1))
        }
        state.withLock { state in
            guard state.trusted, state.epoch == epoch else {
                state.statistics.discardedFills += 1
                return
            }
            state.catalogue = catalogue
        }
    }

    /// Reads the member's row (none: no live membership); keeps it unless a change event
    /// arrived since `epoch`. Returns it either way: it is this call's answer.
    func fillMembership(_ tenant: TenantID, _ user: UserID, since epoch: UInt64) async throws -> CachedMembership {
        let rows = try await pool.query("""
            SELECT is_owner, permission_nos::text FROM auth.effective_access WHERE tenant_id = $1 AND user_id = $2
            """, [tenant, user], prepared: true)
        var membership = CachedMembership.none
        if let row = rows.rows.first {
            membership = CachedMembership(isOwner: try row.decode(Bool.self, at: 0),
                                          permissionNos: Self.integers(try row.decode(String.self, at: 1)).sorted())
        }
        state.withLock { state in
            guard state.trusted, state.epoch == epoch else {
                state.statistics.discardedFills += 1
                return
            }
            state.memberships.set(tenant: tenant, user: user, membership)
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

    /// Applies one change event.
    func apply(_ change: AccessChange) {
        let barrier: CheckedContinuation<Void, any Error>? = state.withLock { state in
            switch change {
            case .members(let tenant, let users):
                state.epoch += 1
                for user in users where state.memberships.remove(tenant: tenant, user: user) {
                    state.statistics.invalidations += 1
                }
            case .tenant(let tenant):
                state.epoch += 1
                state.statistics.invalidations += state.memberships.remove(tenant: tenant)
            case .catalogue:
                state.epoch += 1
                state.catalogue = nil
            case .all:
                state.dropAll()
            case .barrier(let token):
                return state.barriers.removeValue(forKey: token)
            }
            return nil
        }
        barrier?.resume()
    }
}
