import Foundation
import LocalPostgres
import Permissions
import PQ

/// One disposable PostgreSQL cluster per test process, and a fresh database per test.
///
/// The cluster is created on first use with `initdb` in a new temporary folder, listens only
/// on a Unix socket in that folder (random port number), runs with fsync off, and is stopped
/// and deleted when the test process exits, even if it crashes. Nothing depends on a server
/// that happens to be running on the machine.
///
/// Databases are cloned from templates (`CREATE DATABASE ... TEMPLATE`), which takes
/// milliseconds: ``Template/auth`` has the auth schema installed, ``Template/empty`` has nothing.
public actor TestPostgres {
    public static let shared = TestPostgres()
    /// A second cluster, for tests that need a server holding nothing but what they made
    /// (the shared one has every other test's databases). Started on first use.
    public static let separate = TestPostgres()
    /// Two more clusters, for tests of a platform spread over several database servers.
    public static let extraServers = [TestPostgres(), TestPostgres()]

    public enum Template: String, Sendable, CaseIterable {
        case empty = "template_empty"
        case auth = "template_auth"
    }

    /// Tests that may hold a database at once. Swift Testing starts every test together;
    /// unbounded, a slow run overlaps enough of them to exhaust the server's connections.
    public static let concurrentDatabases = 24

    private var cluster: LocalCluster?
    private var databasesInUse = 0
    private var waitingForDatabase: [CheckedContinuation<Void, Never>] = []
    /// One preparation per template; concurrent callers await the same task.
    private var templates: [Template: Task<Void, any Error>] = [:]
    private var databaseCount = 0

    /// The running cluster, started on first call.
    public func localCluster() throws -> LocalCluster {
        if let cluster { return cluster }
        let directory = URL(fileURLWithPath: "/tmp").appending(path: "pgperm-test-\(UUID().uuidString.prefix(8))")
        let cluster = try LocalCluster(directory: directory)
        try cluster.initialize(.init(port: Int.random(in: 20_000...60_000), disposable: true))
        try cluster.removeWhenProcessExits(ProcessInfo.processInfo.processIdentifier)
        try cluster.start()
        self.cluster = cluster
        return cluster
    }

    /// Creates a new database cloned from `template`, waiting while
    /// ``concurrentDatabases`` others are in use. Pair with ``dropDatabase(_:)``.
    public func createDatabase(from template: Template = .auth) async throws -> TestDatabase {
        if databasesInUse >= Self.concurrentDatabases {
            await withCheckedContinuation { waitingForDatabase.append($0) }
        } else {
            databasesInUse += 1
        }
        do {
            return try await cloneDatabase(from: template)
        } catch {
            releaseDatabaseSlot()
            throw error
        }
    }

    private func cloneDatabase(from template: Template) async throws -> TestDatabase {
        let cluster = try localCluster()
        try await prepare(template, in: cluster)
        databaseCount += 1
        let name = "test_\(databaseCount)_\(UUID().uuidString.prefix(6).lowercased())"
        try await Self.superuserQuery("CREATE DATABASE \(name) TEMPLATE \(template.rawValue)", in: cluster)
        return TestDatabase(name: name, conninfo: cluster.conninfo(database: name), cluster: cluster)
    }

    /// Drops a database made by ``createDatabase(from:)``, closing any connections left on it.
    public func dropDatabase(_ database: TestDatabase) async throws {
        defer { releaseDatabaseSlot() }
        try await Self.superuserQuery("DROP DATABASE IF EXISTS \(database.name) WITH (FORCE)", in: database.cluster)
    }

    /// Hands the slot to the next waiting test, or frees it.
    private func releaseDatabaseSlot() {
        if waitingForDatabase.isEmpty {
            databasesInUse -= 1
        } else {
            waitingForDatabase.removeFirst().resume()
        }
    }

    private func prepare(_ template: Template, in cluster: LocalCluster) async throws {
        if let preparation = templates[template] { return try await preparation.value }
        let preparation = Task {
            try await Self.superuserQuery("CREATE DATABASE \(template.rawValue)", in: cluster)
            if template == .auth {
                let connection = try await Connection.connect(cluster.conninfo(database: template.rawValue))
                try await SchemaInstaller(manifest: try .auth()).install(on: connection)
                await connection.close()
            }
        }
        templates[template] = preparation
        try await preparation.value
    }

    private static func superuserQuery(_ sql: String, in cluster: LocalCluster) async throws {
        let connection = try await Connection.connect(cluster.conninfo())
        defer { Task { await connection.close() } }
        try await connection.query(sql)
    }
}

/// A database of the disposable test cluster.
public struct TestDatabase: Sendable {
    public let name: String
    /// A libpq conninfo for the database, as the cluster's superuser.
    public let conninfo: String
    public let cluster: LocalCluster

    /// Opens a new connection to the database.
    public func connect() async throws -> Connection {
        try await Connection.connect(conninfo)
    }

    /// Opens a connection as another login role (libpq takes the last `user` and `password`).
    public func connect(as role: String, password: String) async throws -> Connection {
        try await Connection.connect("\(conninfo) user=\(role) password=\(password)")
    }
}

/// Runs `body` with a fresh database cloned from `template`, dropped afterwards.
public func withTestDatabase<T: Sendable>(
    _ template: TestPostgres.Template = .auth,
    isolation: isolated (any Actor)? = #isolation,
    _ body: (TestDatabase) async throws -> T
) async throws -> T {
    let database = try await TestPostgres.shared.createDatabase(from: template)
    do {
        let value = try await body(database)
        try await TestPostgres.shared.dropDatabase(database)
        return value
    } catch {
        try? await TestPostgres.shared.dropDatabase(database)
        throw error
    }
}

/// Runs `body` with one connection to a fresh database cloned from `template`.
public func withTestConnection<T: Sendable>(
    _ template: TestPostgres.Template = .auth,
    isolation: isolated (any Actor)? = #isolation,
    _ body: (Connection) async throws -> T
) async throws -> T {
    try await withTestDatabase(template) { database in
        let connection = try await database.connect()
        do {
            let value = try await body(connection)
            await connection.close()
            return value
        } catch {
            await connection.close()
            throw error
        }
    }
}
