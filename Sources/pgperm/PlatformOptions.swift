import ArgumentParser
import Foundation
import LocalPostgres
import Logging
import TenantPlatform

/// How the platform commands find their configuration: flags, then the environment, then
/// a `.env` file; the server defaults to the local cluster of `pgperm up` when running.
struct PlatformOptions: ParsableArguments {
    @Option(name: .customLong("env-file"), help: ArgumentHelp("A .env file with the platform's variables (MASTER_DB_*, PG_ADMIN_*, TENANT_ENCRYPTION_KEY, ...); ignored if missing. The environment overrides it; the flags below override both.", valueName: "path"))
    var envFile = ".env"

    @Option(name: .customLong("master-host"), help: ArgumentHelp("Overrides MASTER_DB_HOST, the server of the master database.", valueName: "host"))
    var masterHost: String?

    @Option(name: .customLong("master-port"), help: ArgumentHelp("Overrides MASTER_DB_PORT.", valueName: "port"))
    var masterPort: String?

    @Option(name: .customLong("master-db"), help: ArgumentHelp("Overrides MASTER_DB_NAME (default: pgperm_master).", valueName: "name"))
    var masterDatabase: String?

    @Option(name: .customLong("tenant-db-prefix"), help: ArgumentHelp("Overrides TENANT_DB_PREFIX (default: tenant), which begins the names of tenant databases and roles.", valueName: "prefix"))
    var tenantDatabasePrefix: String?

    @Option(name: .customLong("data-dir"), help: ArgumentHelp("The local cluster of `pgperm up`, used when MASTER_DB_HOST is not set and it is running (else localhost:5432).", valueName: "path"))
    var dataDirectory = ".pgperm"

    @Option(help: ArgumentHelp("Who is acting, as the platform audit log records it (default: os:<your OS user>).",
                               valueName: "name"))
    var actor: String?

    @Flag(name: .shortAndLong, help: "Log each step.")
    var verbose = false

    var logger: Logger {
        var logger = Logger(label: "pgperm")
        logger.logLevel = verbose ? .debug : .warning
        return logger
    }

    func configuration() throws -> PlatformConfiguration {
        var overrides: [String: String] = [:]
        overrides["MASTER_DB_HOST"] = masterHost
        overrides["MASTER_DB_PORT"] = masterPort
        overrides["MASTER_DB_NAME"] = masterDatabase
        overrides["TENANT_DB_PREFIX"] = tenantDatabasePrefix
        let cluster = try? LocalCluster(directory: URL(fileURLWithPath: dataDirectory))
        let localServer = cluster.flatMap { cluster in
            cluster.isRunning ? (PlatformConfiguration.Server(host: cluster.host, port: cluster.port ?? 5432), cluster.password) : nil
        }
        return try PlatformConfiguration.resolve(overrides: overrides, dotEnv: try DotEnv.load(URL(fileURLWithPath: envFile)),
                                                 defaultServer: localServer)
    }

    /// Starts the platform: master database up to date, encryption key verified.
    func start() async throws -> Platform {
        try await Platform.start(try configuration(), logger: logger)
    }
}

/// Runs `body` with a started platform, as the command's ``AuditActor``, and shuts the
/// platform down afterwards.
func withPlatform<T>(_ options: PlatformOptions, _ body: (Platform) async throws -> T) async throws -> T {
    let platform = try await options.start()
    do {
        let value = try await AuditActor.$current.withValue(.commandLine(options.actor)) { try await body(platform) }
        await platform.shutdown()
        return value
    } catch {
        await platform.shutdown()
        throw error
    }
}
