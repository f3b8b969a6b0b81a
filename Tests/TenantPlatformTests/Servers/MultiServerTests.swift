import Foundation
import LocalPostgres
import Permissions
import PlatformTestSupport
import PostgresTestSupport
import PQ
import Synchronization
import Testing
@testable import TenantPlatform

/// One platform over three PostgreSQL servers: the shared test cluster ("main") and two more
/// (`TestPostgres.extraServers`). Serialized: one test stops a server the others use.
@Suite("Platform: tenants over several database servers", .serialized)
struct MultiServerTests {
    /// Registers the two extra clusters as servers `s2` and `s3`.
    private func addServers(_ f: PlatformFixture, capacity: Int = 500) async throws -> [LocalCluster] {
        var clusters: [LocalCluster] = []
        for (index, server) in TestPostgres.extraServers.enumerated() {
            let cluster = try await server.localCluster()
            try await f.platform.serverAdministration.add(.init(
                name: "s\(index + 2)", address: .init(host: cluster.host, port: cluster.port ?? 5432),
                adminUser: LocalCluster.superuser, adminPassword: cluster.password, capacity: capacity))
            clusters.append(cluster)
        }
        return clusters
    }

    @Test("30 new tenants spread by free capacity; --server, draining, full servers and removal are enforced")
    func placement() async throws {
        try await PlatformFixture.run { f in
            _ = try await addServers(f, capacity: 10)
            try await f.platform.serverAdministration.update("main", capacity: 12)
            try await f.provisioner.create(name: "First", slug: "first", server: "main")
            try await f.provisioner.create(name: "Second", slug: "second", server: "main")
            for n in 1...30 { try await f.provisioner.create(name: "T\(n)", slug: "t\(n)") }
            let spread = Dictionary(grouping: try await f.platform.directory.all(), by: \.server.name).mapValues(\.count)
            #expect(spread == ["main": 12, "s2": 10, "s3": 10], "the most free capacity first: main had 2 tenants already")

            let full = try await #require(throws: PlatformError.self) { try await f.provisioner.create(name: "X", slug: "xx") }
            #expect(full.code == .noCapacity)
            try await f.platform.serverAdministration.update("s3", capacity: 12)
            try await f.platform.serverAdministration.drain("s3")
            let drained = try await #require(throws: PlatformError.self) {
                try await f.provisioner.create(name: "X", slug: "xx", server: "s3")
            }
            #expect(drained.code == .serverNotActive)
            let inUse = try await #require(throws: PlatformError.self) { try await f.platform.serverAdministration.remove("s3") }
            #expect(inUse.code == .serverInUse)
            try await f.platform.serverAdministration.update("s2", capacity: 11)
            #expect(try await f.provisioner.create(name: "X", slug: "xx").tenant.server.name == "s2")

            let unknown = try await #require(throws: PlatformError.self) { try await f.provisioner.create(name: "Y", slug: "yy", server: "nope") }
            #expect(unknown.code == .unknownServer)
            let duplicate = try await #require(throws: PlatformError.self) { try await addServers(f) }
            #expect(duplicate.code == .serverExists)
            #expect(try await f.auditActions().filter { $0.hasPrefix("server.") } == [
                "server.add", "server.add", "server.update", "server.update", "server.update", "server.update"])
        }
    }

    @Test("a tenant moved to another server under a steady load of checks: no wrong answer, no lost write, old copy dropped")
    func moveUnderLoad() async throws {
        try await PlatformFixture.run { f in
            let clusters = try await addServers(f)
            try await f.provisioner.create(name: "Acme", slug: "acme", server: "main")
            let acme = try await f.platform.directory.require(slug: "acme")
            let authTenant = try acme.authTenantID()
            // Writes made before the move: 200 users, half of them granted a code.
            let users = try await f.withTenantConnection("acme") { connection in
                try await connection.withTransaction { connection in
                    let auth = AuthClient(connection)
                    var users: [(UserID, Bool)] = []
                    for n in 0..<200 {
                        let user = try await auth.createUser(username: "user\(n)")
                        try await auth.addUserToTenant(authTenant, user: user)
                        if n.isMultiple(of: 2) {
                            _ = try await auth.assignPermission(tenant: authTenant, to: .user(user), grant: .permission("users.view"))
                        }
                        users.append((user, n.isMultiple(of: 2)))
                    }
                    return users
                }
            }

            let counts = Mutex((checks: 0, wrong: 0, errors: 0))
            let load = Task {
                while !Task.isCancelled {
                    let (user, expected) = users.randomElement()!
                    do {
                        let target = try await f.platform.directory.require(slug: "acme").connectionTarget
                        let granted = try await f.platform.connections.withConnection(to: target) { connection in
                            try await AuthClient(connection).hasPermission(tenant: authTenant, user: user, code: "users.view")
                        }
                        counts.withLock { $0.checks += 1; if granted != expected { $0.wrong += 1 } }
                    } catch {
                        counts.withLock { $0.errors += 1 }
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(200))
            let report = try await TenantMover(platform: f.platform).move(slug: "acme", to: "s3")
            try await Task.sleep(for: .milliseconds(200))
            load.cancel()
            _ = await load.result
            let seen = counts.withLock { $0 }
            print("move under load: \(seen.checks) checks, \(seen.wrong) wrong, \(seen.errors) failed; writes refused for "
                  + "\(report.writesRefused), move took \(report.duration), \(report.rows) rows")
            #expect(seen.wrong == 0)
            #expect(seen.checks > 100)
            #expect(report.from == "main" && report.to == "s3")

            let moved = try await f.platform.directory.require(slug: "acme")
            #expect(moved.server.name == "s3")
            #expect(try await f.lifecycle.test(slug: "acme").schemaVersion != nil)
            let rows = try await f.withTenantConnection("acme") { connection in
                try await connection.query("SELECT count(*) FROM auth.user_info").scalar(Int.self)
            }
            #expect(rows == 201, "the 200 users and the initial admin")
            // Writable on the new server; the old database is gone from the old one.
            try await f.withTenantConnection("acme") { connection in
                _ = try await AuthClient(connection).createUser(username: "after-move")
            }
            let old = try await f.superuser()
            defer { Task { await old.close() } }
            #expect(try await old.query("SELECT 1 FROM pg_database WHERE datname = $1", [acme.databaseName]).isEmpty)
            let newServer = try await Connection.connect(clusters[1].conninfo())
            defer { Task { await newServer.close() } }
            #expect(try await !newServer.query("SELECT 1 FROM pg_database WHERE datname = $1", [acme.databaseName]).isEmpty)
            #expect(try await f.auditActions().suffix(2) == ["tenant.move_started", "tenant.move"])
        }
    }

    @Test("a move interrupted at a step finishes when run again; an aborted one leaves the tenant writable where it was")
    func moveResumesAndAborts() async throws {
        try await PlatformFixture.run { f in
            _ = try await addServers(f)
            try await f.provisioner.create(name: "Acme", slug: "acme", server: "main")
            struct Crash: Error {}
            let crashAtCopy = TenantMover(platform: f.platform) { step in if step == .copied { throw Crash() } }
            await #expect(throws: Crash.self) { try await crashAtCopy.move(slug: "acme", to: "s2") }
            // Frozen meanwhile: reads work, writes are refused with 25006.
            let refused = try await #require(throws: PostgresError.self) {
                try await f.withTenantConnection("acme") { _ = try await AuthClient($0).createUser(username: "during") }
            }
            #expect(refused.code?.rawValue == "25006")
            let elsewhere = try await #require(throws: PlatformError.self) {
                try await TenantMover(platform: f.platform).move(slug: "acme", to: "s3")
            }
            #expect(elsewhere.code == .tenantExists)
            let report = try await TenantMover(platform: f.platform).move(slug: "acme", to: "s2")
            #expect(report.tenant.server.name == "s2")

            // A client that turns read-only off and writes during the copy: verification
            // catches it, and the next run copies again.
            let sneaky = TenantMover(platform: f.platform) { step in
                guard step == .switched else { return }
                try await f.withTenantConnection("acme") { connection in
                    try await connection.withTransaction(begin: "BEGIN READ WRITE") { connection in
                        _ = try await AuthClient(connection).createUser(username: "sneaked-in")
                    }
                }
            }
            let caught = try await #require(throws: PlatformError.self) { try await sneaky.move(slug: "acme", to: "s3") }
            #expect(caught.code == .moveFailed && caught.message.contains("differs"))
            #expect(try await TenantMover(platform: f.platform).move(slug: "acme", to: "s3").tenant.server.name == "s3")
            let sneaked = try await f.withTenantConnection("acme") { connection in
                try await connection.query("SELECT count(*) FROM auth.user_info WHERE username = 'sneaked-in'").scalar(Int.self)
            }
            #expect(sneaked == 1, "the write made during the first copy is in the second")

            let crashAtVerify = TenantMover(platform: f.platform) { step in if step == .switched { throw Crash() } }
            await #expect(throws: Crash.self) { try await crashAtVerify.move(slug: "acme", to: "s2") }
            try await TenantMover(platform: f.platform).abort(slug: "acme")
            #expect(try await f.platform.directory.require(slug: "acme").server.name == "s3")
            try await f.withTenantConnection("acme") { _ = try await AuthClient($0).createUser(username: "after-abort") }
            let nothing = try await #require(throws: PlatformError.self) { try await TenantMover(platform: f.platform).abort(slug: "acme") }
            #expect(nothing.code == .notAssigned)
        }
    }

    @Test("a stopped server fails only its tenants, naming the server; they recover when it is back; migrate and doctor cover every server")
    func serverDown() async throws {
        try await PlatformFixture.run { f in
            let clusters = try await addServers(f)
            try await f.provisioner.create(name: "On main", slug: "on-main", server: "main")
            try await f.provisioner.create(name: "On s2", slug: "on-s2", server: "s2")
            try await f.provisioner.create(name: "On s3", slug: "on-s3", server: "s3")
            for slug in ["on-main", "on-s2", "on-s3"] { _ = try await f.withTenantConnection(slug) { try await $0.query("SELECT 1") } }

            let run = try await TenantMigrator(platform: f.platform).migrate()
            #expect(run.succeeded)
            #expect(run.templates.map(\.server) == ["main", "s2", "s3"])
            #expect(run.tenants.map(\.slug) == ["on-main", "on-s2", "on-s3"])

            try clusters[0].stop()
            do {
                let down = try await #require(throws: TenantConnectionError.self) {
                    try await f.withTenantConnection("on-s2") { try await $0.query("SELECT 1") }
                }
                #expect(down.code == .serverUnavailable)
                #expect(down.server == "s2")
                #expect(down.description.contains("database server \"s2\""))
                _ = try await f.withTenantConnection("on-main") { try await $0.query("SELECT 1") }
                _ = try await f.withTenantConnection("on-s3") { try await $0.query("SELECT 1") }
                let findings = try await PlatformDoctor(platform: f.platform).examine()
                #expect(findings.filter { $0.kind == .unreachableServer }.map(\.server) == ["s2"])

                try await f.platform.serverAdministration.update("s2", status: .down)
                let marked = try await #require(throws: TenantConnectionError.self) {
                    try await f.withTenantConnection("on-s2") { try await $0.query("SELECT 1") }
                }
                #expect(marked.code == .serverUnavailable && marked.detail == "The server is marked down.")
                try await f.platform.serverAdministration.update("s2", status: .active)
            } catch {
                try clusters[0].start()
                throw error
            }
            try clusters[0].start()
            _ = try await f.withTenantConnection("on-s2") { try await $0.query("SELECT 1") }
            #expect(try await PlatformDoctor(platform: f.platform).examine().filter { $0.kind == .unreachableServer }.isEmpty)
        }
    }
}

@Suite("Platform: a unit of work in a tenant's database")
struct TenantUnitOfWorkTests {
    @Test("with an actor every auth audit row of the transaction names the user; without one none does; a throw rolls back")
    func actorInAuditRows() async throws {
        try await PlatformFixture.run { f in
            try await f.provisioner.create(name: "Acme", slug: "acme")
            let acme = try await f.platform.directory.require(slug: "acme")
            let authTenant = try acme.authTenantID()
            let connections = f.platform.connections
            let admin = try await f.withTenantConnection("acme") { connection in
                try await connection.query("SELECT user_id FROM auth.owner WHERE user_group_id IS NULL").scalar(UserID.self)
            }
            try await connections.withUnitOfWork(in: acme, actor: admin) { connection in
                let auth = AuthClient(connection)
                let user = try await auth.createUser(username: "named")
                try await auth.addUserToTenant(authTenant, user: user)
            }
            try await connections.withUnitOfWork(in: acme, actor: nil) { connection in
                _ = try await AuthClient(connection).createUser(username: "anonymous")
            }
            struct Refused: Error {}
            await #expect(throws: Refused.self) {
                try await connections.withUnitOfWork(in: acme, actor: admin) { connection in
                    _ = try await AuthClient(connection).createUser(username: "rolled-back")
                    throw Refused()
                }
            }
            func actors(of username: String) async throws -> [UserID?] {
                try await f.withTenantConnection("acme") { connection in
                    try await connection.query("SELECT actor_user_id FROM auth.audit_log WHERE details::text LIKE $1 ORDER BY audit_id",
                                               ["%\"\(username)\"%"]).rows.map { try $0.decode(UserID?.self, at: 0) }
                }
            }
            let named = try await actors(of: "named")
            #expect(!named.isEmpty && named.allSatisfy { $0 == admin })
            let anonymous = try await actors(of: "anonymous")
            #expect(!anonymous.isEmpty && anonymous.allSatisfy { $0 == nil })
            #expect(try await actors(of: "rolled-back").isEmpty)
            let rolledBack = try await f.withTenantConnection("acme") { connection in
                try await connection.query("SELECT count(*) FROM auth.user_info WHERE username = 'rolled-back'").scalar(Int.self)
            }
            #expect(rolledBack == 0)
        }
    }
}
