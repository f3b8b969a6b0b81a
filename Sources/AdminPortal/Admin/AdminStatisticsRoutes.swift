import Foundation
import Hummingbird
import TenantPlatform

/// `GET /admin/api/stats`: the System Statistics tab. A superadmin sees the whole platform; a
/// regular admin the tenants it manages, without servers, sessions and request metrics
/// (`null`), which are the platform's. The counts read from tenant databases are kept a while
/// (``StatisticsSnapshots``); `?refresh=true` reads them again and waits.
struct AdminStatisticsRoutes {
    let snapshots: StatisticsSnapshots
    let sessions: SessionStore
    let requests: RequestMetrics

    struct StatisticsView: ResponseEncodable {
        let tenantsByStatus: [String: Int]
        let totals: Totals
        /// Largest first.
        let tenants: [TenantView]
        let servers: [ServerView]?
        let sessions: SessionsView?
        let requests: RequestsView?
        /// When the counts, sizes and connections were read, and how long it took.
        let gatheredAt: Date
        let gatheredInMs: Double
        /// Whether newer counts are being read now: the next load shows them.
        let refreshing: Bool
    }

    struct Totals: Encodable {
        let tenants: Int
        let users: Int
        let groups: Int
        let permissionSets: Int
        let sizeBytes: Int64
        /// Active tenants whose database did not answer; their counts are missing from the sums.
        let unreachableTenants: Int
    }

    struct TenantView: Encodable {
        let slug: String
        let name: String
        let status: String
        let server: String
        let users: Int?
        let groups: Int?
        let permissionSets: Int?
        let sizeBytes: Int64?
        let unreachable: String?
    }

    struct ServerView: Encodable {
        let name: String
        let status: String
        let tenantCount: Int
        let sizeBytes: Int64?
        let connections: Int?
        let unreachable: String?
    }

    struct SessionsView: Encodable {
        let admin: Int
        let tenantUser: Int
    }

    struct RequestsView: Encodable {
        let lastFiveMinutes: [RequestMetrics.RouteSummary]
        let lastHour: [RequestMetrics.RouteSummary]
        /// Oldest first, one per minute of the last hour.
        let perMinute: [RequestMetrics.MinuteTotal]
    }

    func register(on group: RouterGroup<PortalContext>) {
        group.get("stats") { request, context in
            let admin = try context.requireAdmin()
            let statistics = try await snapshots.statistics(within: admin.isSuperadmin ? nil : admin.tenantIDs,
                                                            fresh: try request.booleanParameter("refresh") ?? false)
            let tenants = statistics.tenants
                .map { TenantView(slug: $0.slug, name: $0.name, status: $0.status.rawValue, server: $0.server, users: $0.users,
                                  groups: $0.groups, permissionSets: $0.permissionSets, sizeBytes: $0.sizeBytes,
                                  unreachable: $0.unreachable) }
                .sorted { ($0.sizeBytes ?? -1, $1.slug) > ($1.sizeBytes ?? -1, $0.slug) }
            let totals = Totals(tenants: tenants.count, users: tenants.compactMap(\.users).reduce(0, +),
                                groups: tenants.compactMap(\.groups).reduce(0, +),
                                permissionSets: tenants.compactMap(\.permissionSets).reduce(0, +),
                                sizeBytes: tenants.compactMap(\.sizeBytes).reduce(0, +),
                                unreachableTenants: tenants.filter { $0.unreachable != nil }.count)
            var byStatus = Dictionary(uniqueKeysWithValues: TenantRecord.Status.allCases.map { ($0.rawValue, 0) })
            for (status, count) in statistics.tenantsByStatus { byStatus[status.rawValue] = count }

            var servers: [ServerView]?
            var sessionsView: SessionsView?
            var requestsView: RequestsView?
            if admin.isSuperadmin {
                servers = statistics.servers
                    .map { ServerView(name: $0.name, status: $0.status.rawValue, tenantCount: $0.tenantCount, sizeBytes: $0.sizeBytes,
                                      connections: $0.connections, unreachable: $0.unreachable) }
                    .sorted { ($0.sizeBytes ?? -1, $1.name) > ($1.sizeBytes ?? -1, $0.name) }
                let open = try await sessions.openCounts()
                sessionsView = SessionsView(admin: open.admin, tenantUser: open.tenantUser)
                requestsView = RequestsView(lastFiveMinutes: requests.routes(lastMinutes: 5),
                                            lastHour: requests.routes(lastMinutes: 60), perMinute: requests.perMinute())
            }
            return StatisticsView(tenantsByStatus: byStatus, totals: totals, tenants: tenants, servers: servers,
                                  sessions: sessionsView, requests: requestsView,
                                  gatheredAt: statistics.gatheredAt, gatheredInMs: statistics.gatheringDuration.seconds * 1000,
                                  refreshing: statistics.isRefreshing)
        }
    }
}

/// `GET /admin/api/servers`: the database servers, for the Tenants tab's server choice and filter.
struct AdminServerRoutes {
    let platform: Platform

    struct ServerView: ResponseEncodable {
        let name: String
        let status: String
        let capacity: Int
        let tenantCount: Int
    }

    func register(on group: RouterGroup<PortalContext>) {
        group.get("servers") { _, context in
            _ = try context.requireAdmin()
            return try await platform.servers.all().map {
                ServerView(name: $0.name, status: $0.status.rawValue, capacity: $0.capacity, tenantCount: $0.tenantCount)
            }
        }
    }
}
