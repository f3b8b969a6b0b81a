import Foundation
import LocalPostgres
import PostgresTestSupport
import PQ
import TenantPlatform

/// A platform on the disposable test cluster with its own master database and tenant
/// prefix, so tests can run side by side; everything it created is dropped afterwards.
public struct PlatformFixture: Sendable {
    public let platform: Platform
    public let cluster: LocalCluster
    public let keyHex: String

    public init(platform: Platform, cluster: LocalCluster, keyHex: String) {
        self.platform = platform
        self.cluster = cluster
        self.keyHex = keyHex
    }

    public var configuration: PlatformConfiguration { platform.configuration }
    public var provisioner: TenantProvisioner { TenantProvisioner(platform: platform) }
    public var lifecycle: TenantLifecycle { TenantLifecycle(platform: platform) }

    /// Leases a connection to the tenant's database through the platform's connection manager.
    public func withTenantConnection<T: Sendable>(
        _ slug: String, isolation: isolated (any Actor)? = #isolation, _ body: (Connection) async throws -> T
    ) async throws -> T {
        try await platform.connections.withConnection(to: try await platform.directory.require(slug: slug).connectionTarget, body)
    }

    /// The configuration of a fresh fixture: a unique master database and prefix.
    public static func configuration(cluster: LocalCluster, keyHex: String, prefix: String, master: String,
                              extra: [String: String] = [:]) throws -> PlatformConfiguration {
        try PlatformConfiguration.resolve(
            overrides: ["MASTER_DB_HOST": cluster.host, "MASTER_DB_PORT": "\(cluster.port ?? 5432)", "MASTER_DB_NAME": master,
                        "MASTER_DB_USER": LocalCluster.superuser, "MASTER_DB_PASSWORD": cluster.password ?? "",
                        "TENANT_ENCRYPTION_KEY": keyHex, "TENANT_DB_PREFIX": prefix].merging(extra) { _, new in new },
            environment: [:])
    }

    /// Runs `body` with a fresh platform, torn down afterwards.
    ///
    /// - Parameter hardenedServer: run on a cluster of its own (``TestPostgres/separate``)
    ///   whose `postgres` and `template1` only superusers may connect to, as `pgperm doctor`
    ///   advises: on it a platform can be entirely clean. Tests using it must not run in
    ///   parallel with each other (a database one of them creates is another's finding).
    public static func run(extra: [String: String] = [:], hardenedServer: Bool = false,
                           _ body: (PlatformFixture) async throws -> Void) async throws {
        let cluster = try await (hardenedServer ? TestPostgres.separate : TestPostgres.shared).localCluster()
        if hardenedServer {
            let admin = try await Connection.connect(cluster.conninfo())
            defer { Task { await admin.close() } }
            try await admin.query("REVOKE CONNECT, TEMPORARY ON DATABASE postgres, template1 FROM PUBLIC")
        }
        let suffix = UUID().uuidString.prefix(6).lowercased()
        let keyHex = EncryptionKey.generateHex()
        let configuration = try configuration(cluster: cluster, keyHex: keyHex, prefix: "t\(suffix)", master: "master_\(suffix)",
                                              extra: extra)
        let platform = try await Platform.start(configuration)
        let fixture = PlatformFixture(platform: platform, cluster: cluster, keyHex: keyHex)
        do {
            try await body(fixture)
            await fixture.tearDown()
        } catch {
            await fixture.tearDown()
            throw error
        }
    }

    /// Drops every database and role with the fixture's prefix, and the master database.
    public func tearDown() async {
        await platform.shutdown()
        guard let admin = try? await superuser() else { return }
        let prefix = configuration.tenantDatabasePrefix
        let databases = (try? await admin.query("SELECT datname FROM pg_database WHERE datname LIKE $1", [prefix + "\\_%"])
            .rows.map { try $0.decode(String.self, at: 0) }) ?? []
        for database in databases + [configuration.masterDatabase] {
            _ = try? await admin.query("DROP DATABASE IF EXISTS \"\(database)\" WITH (FORCE)")
        }
        let roles = (try? await admin.query("SELECT rolname FROM pg_roles WHERE rolname LIKE $1", [prefix + "\\_%"])
            .rows.map { try $0.decode(String.self, at: 0) }) ?? []
        for role in roles { _ = try? await admin.query("DROP ROLE IF EXISTS \"\(role)\"") }
        await admin.close()
    }

    /// A superuser connection to `database` of the test cluster (close it).
    public func superuser(_ database: String = "postgres") async throws -> Connection {
        try await Connection.connect(cluster.conninfo(database: database))
    }

    /// Runs one query as the superuser and returns the first column of each row as text.
    public func strings(_ sql: String, _ binds: [any PostgresEncodable] = [], database: String = "postgres") async throws -> [String] {
        let connection = try await superuser(database)
        do {
            let values = try await connection.query(sql, binds).rows.map { try $0.decode(String.self, at: 0) }
            await connection.close()
            return values
        } catch {
            await connection.close()
            throw error
        }
    }

    /// Databases and roles on the server with this fixture's prefix, but the template's.
    public func leftovers() async throws -> [String] {
        let template = TenantNames.templateDatabase(prefix: configuration.tenantDatabasePrefix)
        return try await strings("""
            SELECT 'database ' || datname FROM pg_database WHERE datname LIKE $1 AND datname <> $2
            UNION ALL SELECT 'role ' || rolname FROM pg_roles WHERE rolname LIKE $1 AND rolname <> ALL ($3) ORDER BY 1
            """, [configuration.tenantDatabasePrefix + "\\_%", template, TenantRoles(template: template).all])
    }
}
