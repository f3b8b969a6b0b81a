import Foundation
import Permissions
import PostgresTestSupport
import PQ
import Testing
@testable import TenantPlatform

@Suite("A tenant's PermissionCache lives with its pool")
struct TenantPermissionCacheTests {
    /// A tenant database with the auth schema, a tenant with a member, and a manager over it.
    private func withTenant(
        _ settings: TenantPoolSettings,
        _ body: (TenantConnectionManager, SimulatedTenants, AuthClient, TenantID, UserID) async throws -> Void
    ) async throws {
        try await withSimulatedTenants(.auth, settings) { manager, tenants in
            let auth = AuthClient(tenants.observer)
            if try await tenants.observer.query("SELECT 1 FROM auth.permission WHERE code::text = 'users.view'").isEmpty {
                _ = try await auth.createPermission(code: "users.view", name: "View users")
            }
            let tenant = try await auth.createTenant(name: "Acme", code: "ACME-\(UUID().uuidString.prefix(8))")
            let user = try await auth.createUser(username: "bob-\(UUID().uuidString.prefix(8))")
            try await auth.addUserToTenant(tenant, user: user)
            try await body(manager, tenants, auth, tenant, user)
        }
    }

    /// The listening sessions of the simulated tenant `name`, seen from outside.
    private func listeners(_ tenants: SimulatedTenants, _ name: String) async throws -> Int {
        try await tenants.observer.query("""
            SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND application_name = $1 AND query LIKE 'LISTEN%'
            """, [name]).scalar(Int.self)
    }

    @Test("the first use opens the pool and one listener; changes in the tenant's database reach the cache; the idle reclaim closes the listener with the pool")
    func listenerLivesWithThePool() async throws {
        try await withTenant(.init(poolSize: 1, idleConnectionTimeout: .seconds(1), idlePoolTimeout: .seconds(3))) {
            manager, tenants, auth, tenant, user in
            let cache = try await manager.permissionCache(for: simulated("acme"))
            #expect(manager.statistics.openPools == 1)
            #expect(try await manager.permissionCache(for: simulated("acme")) === cache, "one cache per pool")
            try await cache.barrier()  // listening
            #expect(try await listeners(tenants, "acme") == 1)

            #expect(try await !cache.hasPermission(tenant: tenant, user: user, code: "users.view"))
            try await auth.assignPermission(tenant: tenant, to: .user(user), grant: .permission("users.view"))
            try await cache.barrier()
            #expect(try await cache.hasPermission(tenant: tenant, user: user, code: "users.view"))
            #expect(cache.statistics.invalidations >= 1 && cache.statistics.isTrusted, "\(cache.statistics)")

            // Nothing uses the pool (the listener's heartbeat does not count): it is reclaimed,
            // and the listening connection closes with it.
            #expect(await eventually(within: .seconds(30)) { manager.statistics.openPools == 0 })
            #expect(try await eventually(within: .seconds(10)) { try await tenants.serverConnections("acme") == 0 })
            #expect(!cache.statistics.isTrusted)

            // The next use opens a new pool and a new cache.
            let next = try await manager.permissionCache(for: simulated("acme"))
            #expect(next !== cache)
            try await next.barrier()
            #expect(try await listeners(tenants, "acme") == 1)
            #expect(try await next.hasPermission(tenant: tenant, user: user, code: "users.view"))
        }
    }

    @Test("closing the pool (a suspension, a deletion, a move) closes the listener before it returns; so does shutdown")
    func closePoolStopsTheListener() async throws {
        try await withTenant(.init(poolSize: 1)) { manager, tenants, _, tenant, user in
            let cache = try await manager.permissionCache(for: simulated("acme"))
            try await cache.barrier()
            _ = try await cache.hasPermission(tenant: tenant, user: user, code: "users.view")
            let other = try await manager.permissionCache(for: simulated("other"))
            try await other.barrier()
            #expect(try await listeners(tenants, "acme") == 1)
            #expect(try await listeners(tenants, "other") == 1)

            await manager.closePool(tenant: simulated("acme").tenant)
            #expect(!cache.statistics.isTrusted && cache.statistics.memberships == 0)
            #expect(try await eventually { try await listeners(tenants, "acme") == 0 })
            #expect(try await listeners(tenants, "other") == 1, "another tenant's listener stays")

            await manager.shutdown()
            #expect(try await eventually { try await listeners(tenants, "other") == 0 })
            await #expect(throws: TenantConnectionError.self) { _ = try await manager.permissionCache(for: simulated("acme")) }
        }
    }

    @Test("a write through the tenant's AuthClient given its cache is seen at once; unknown codes raise the SQL check's error")
    func ownWritesAndErrors() async throws {
        try await withTenant(.init(poolSize: 2)) { manager, _, _, tenant, user in
            let target = simulated("acme")
            #expect(manager.existingPermissionCache(for: target) == nil)
            let cache = try await manager.permissionCache(for: target)
            #expect(manager.existingPermissionCache(for: target) === cache)
            try await cache.barrier()
            #expect(try await !cache.hasPermission(tenant: tenant, user: user, code: "users.view"))
            _ = try await manager.withTransaction(to: target) { connection in
                try await AuthClient(connection, cache: cache)
                    .assignPermission(tenant: tenant, to: .user(user), grant: .permission("users.view"))
            }
            #expect(try await cache.hasPermission(tenant: tenant, user: user, code: "users.view"))
            await #expect(throws: PermissionsError.self) {
                _ = try await cache.hasPermission(tenant: tenant, user: user, code: "users.vew")
            }
        }
    }
}
