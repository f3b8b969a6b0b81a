import Foundation
import PQ

/// The platform at a glance, for the portal's System Statistics tab: tenants by status, what
/// each tenant database holds, storage, and connections per server. The tenants and servers
/// are the registry's as it is now; their counts, sizes and connections come from a
/// ``StatisticsReadings``, read through one admin connection per server and one pooled
/// connection per active tenant, a few at a time. A tenant or server that does not answer is
/// reported with its reason, not left out.
public struct PlatformStatistics: Sendable {
    public struct Tenant: Sendable {
        public let slug: String
        public let name: String
        public let status: TenantRecord.Status
        public let server: String
        /// Active memberships, groups and permission sets in its database (nil when not read).
        public var users: Int?
        public var groups: Int?
        public var permissionSets: Int?
        /// `pg_database_size`, read by the server's admin.
        public var sizeBytes: Int64?
        /// Why its counts could not be read (an active tenant whose database did not answer).
        public var unreachable: String?
    }

    public struct Server: Sendable {
        public let name: String
        public let status: DatabaseServer.Status
        public let tenantCount: Int
        /// Every database on it, tenants' and others'.
        public var sizeBytes: Int64?
        /// Sessions in `pg_stat_activity` (client backends).
        public var connections: Int?
        public var unreachable: String?
    }

    public var tenants: [Tenant]
    public var servers: [Server]
    /// When the counts, sizes and connections were read; a tenant created since has none yet.
    public var gatheredAt: Date
    /// How long reading them took.
    public var gatheringDuration: Duration
    /// Whether newer ones are being read now (``StatisticsSnapshots``).
    public var isRefreshing = false

    public var tenantsByStatus: [TenantRecord.Status: Int] {
        tenants.reduce(into: [:]) { $0[$1.status, default: 0] += 1 }
    }
}

/// What the statistics read from the databases, the costly part (seconds with hundreds of
/// tenant databases): each active tenant's counts, each server's sizes and connections.
public struct StatisticsReadings: Sendable {
    fileprivate var counts: [PlatformTenantID: Result<Platform.Counts, Platform.Reason>]
    fileprivate var servers: [ServerID: Platform.ServerReading]
    public let gatheredAt: Date
    public let duration: Duration
}

extension Platform {
    /// Gathers the statistics of `within` (a regular admin's tenants) or of every tenant, now.
    public func statistics(within: [PlatformTenantID]? = nil) async throws -> PlatformStatistics {
        try await statistics(within: within, from: try await readStatistics(within: within))
    }

    /// Reads the counts of every active tenant (of `within` only, if given) and every server's
    /// sizes and connections.
    ///
    /// - Parameters:
    ///   - concurrency: tenant databases read at the same time.
    ///   - timeout: how long one tenant may take before it counts as unreachable.
    ///   - serverTimeout: the same for a server, whose reading sizes every database on it
    ///     (seconds with hundreds of them).
    public func readStatistics(within: [PlatformTenantID]? = nil, concurrency: Int = 8, timeout: Duration = .seconds(5),
                               serverTimeout: Duration = .seconds(60)) async throws -> StatisticsReadings {
        let started = ContinuousClock.now, gatheredAt = Date()
        let handles = try await tenants(within: within)
        let servers = try await self.servers.all()
        // The servers are read while the tenants are counted.
        let serverReadings = Task { await readServers(servers, timeout: serverTimeout) }
        let counts = await countTenants(handles.filter { $0.status == .active }, concurrency: concurrency, timeout: timeout)
        return StatisticsReadings(counts: counts, servers: await serverReadings.value, gatheredAt: gatheredAt,
                                  duration: ContinuousClock.now - started)
    }

    /// The statistics of `within` (a regular admin's tenants) or of every tenant: the tenants
    /// and servers as the registry has them now, with what `readings` read of them.
    public func statistics(within: [PlatformTenantID]?, from readings: StatisticsReadings) async throws -> PlatformStatistics {
        let handles = try await tenants(within: within)
        let servers = try await self.servers.all()
        var statistics = PlatformStatistics(tenants: [], servers: [], gatheredAt: readings.gatheredAt,
                                            gatheringDuration: readings.duration)
        for server in servers {
            let reading = readings.servers[server.id]
            statistics.servers.append(.init(name: server.name, status: server.status, tenantCount: server.tenantCount,
                                            sizeBytes: reading?.sizeBytes, connections: reading?.connections,
                                            unreachable: reading?.error))
        }
        for handle in handles {
            var tenant = PlatformStatistics.Tenant(slug: handle.slug, name: handle.name, status: handle.status,
                                                   server: handle.server.name)
            tenant.sizeBytes = readings.servers[handle.server.id]?.databaseSizes[handle.databaseName]
            // Only tenants active now are counted (one suspended since keeps no counts).
            switch handle.status == .active ? readings.counts[handle.id] : nil {
            case .success(let count)?:
                (tenant.users, tenant.groups, tenant.permissionSets) = (count.users, count.groups, count.sets)
            case .failure(let reason)?:
                tenant.unreachable = reason.text
            case nil:
                break
            }
            statistics.tenants.append(tenant)
        }
        return statistics
    }

    private func tenants(within: [PlatformTenantID]?) async throws -> [TenantHandle] {
        let handles = try await directory.all()
        guard let within else { return handles }
        let allowed = Set(within)
        return handles.filter { allowed.contains($0.id) }
    }

    fileprivate struct ServerReading: Sendable {
        var sizeBytes: Int64?
        var connections: Int?
        var databaseSizes: [String: Int64] = [:]
        var error: String?
    }

    fileprivate struct Counts: Sendable {
        let users: Int
        let groups: Int
        let sets: Int
    }

    fileprivate struct Reason: Error {
        let text: String
    }

    /// Each server's databases and connections, all servers at once.
    private func readServers(_ servers: [DatabaseServer], timeout: Duration) async -> [ServerID: ServerReading] {
        await withTaskGroup(of: (ServerID, ServerReading).self) { group in
            for server in servers {
                let id = server.id
                group.addTask {
                    do {
                        // The reading first, then the tuple: a release build (Swift 6.3.1) returned
                        // `(server.id, try await ...)` with a garbled id.
                        let reading = try await Self.within(timeout) {
                            try await self.withAdminConnection(on: server) { admin in
                                let sizes = try await Self.databaseSizes(on: admin)
                                // Less this reading's own connection.
                                let connections = try await admin.query(
                                    "SELECT count(*) - 1 FROM pg_stat_activity WHERE backend_type = 'client backend'").scalar(Int.self)
                                return ServerReading(sizeBytes: sizes.values.reduce(0, +), connections: connections, databaseSizes: sizes)
                            }
                        }
                        return (id, reading)
                    } catch {
                        return (id, ServerReading(error: Self.reason(error)))
                    }
                }
            }
            var readings: [ServerID: ServerReading] = [:]
            for await (id, reading) in group { readings[id] = reading }
            return readings
        }
    }

    /// Every database's size. A database dropped between the catalogue read and its size (a
    /// tenant deleted meanwhile) has none (NULL), or fails the statement with 3D000 or, when
    /// its files went first, 58P01, and then is simply read again.
    private static func databaseSizes(on admin: Connection) async throws -> [String: Int64] {
        for attempt in 1... {
            do {
                var sizes: [String: Int64] = [:]
                for row in try await admin.query("SELECT datname, pg_database_size(oid) FROM pg_database WHERE datallowconn").rows {
                    // NULL: dropped since the catalogue was read.
                    if let size = try row.decode(Int64?.self, at: 1) { sizes[try row.decode(String.self, at: 0)] = size }
                }
                return sizes
            } catch let error as PostgresError where ["3D000", "58P01"].contains(error.code?.rawValue) && attempt < 3 {
                continue
            }
        }
        return [:]
    }

    /// The counts of each active tenant, `concurrency` databases at a time.
    private func countTenants(_ handles: [TenantHandle], concurrency: Int,
                              timeout: Duration) async -> [PlatformTenantID: Result<Counts, Reason>] {
        await withTaskGroup(of: (PlatformTenantID, Result<Counts, Reason>).self) { group in
            var results: [PlatformTenantID: Result<Counts, Reason>] = [:]
            var pending = handles[...]
            func startNext() {
                guard let handle = pending.popFirst() else { return }
                let id = handle.id
                group.addTask {
                    do {
                        let authTenant = try handle.authTenantID()
                        let counts = try await Self.within(timeout) {
                            try await self.connections.withConnection(to: handle.connectionTarget) { connection in
                                let row = try await connection.query("""
                                    SELECT user_count, group_count, permission_set_count FROM auth.get_tenant_statistics($1)
                                    """, [authTenant], prepared: true).rows[0]
                                return Counts(users: try row.decode(Int.self, at: 0), groups: try row.decode(Int.self, at: 1),
                                              sets: try row.decode(Int.self, at: 2))
                            }
                        }
                        return (id, .success(counts))
                    } catch {
                        return (id, .failure(Reason(text: Self.reason(error))))
                    }
                }
            }
            for _ in 0..<max(1, concurrency) { startNext() }
            while let (id, result) = await group.next() {
                results[id] = result
                startNext()
            }
            return results
        }
    }

    /// Runs `body`, or throws when it takes longer than `timeout`.
    private static func within<T: Sendable>(_ timeout: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else {
                throw Reason(text: "no answer within \(timeout.components.seconds) seconds")
            }
            return value
        }
    }

    static func reason(_ error: any Error) -> String {
        (error as? Reason)?.text ?? DatabaseFailure.reason(error)
    }
}
