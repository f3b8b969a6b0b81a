import ArgumentParser
import Foundation
import LocalPostgres
import Logging
import PQ

/// How every subcommand finds its database.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .customLong("database-url"),
            help: ArgumentHelp("A PostgreSQL URL or libpq conninfo string (default: $DATABASE_URL, else the running local cluster of --data-dir, else libpq's defaults).",
                               valueName: "url"))
    var databaseURL: String?

    @Option(name: .customLong("data-dir"),
            help: ArgumentHelp("The folder of the local development cluster: `pgperm up` creates it; other commands connect to it when no URL is given and it is running.", valueName: "path"))
    var dataDirectory: String = ".pgperm"

    @Flag(name: .shortAndLong, help: "Log each step.")
    var verbose = false

    /// The explicit URL, from the flag or the environment.
    var explicitURL: String? {
        databaseURL ?? ProcessInfo.processInfo.environment["DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    var localCluster: LocalCluster {
        get throws { try LocalCluster(directory: URL(fileURLWithPath: dataDirectory)) }
    }

    /// The conninfo to use: explicit URL, running local cluster, or libpq defaults ("").
    func conninfo(database: String = LocalDevelopment.database) throws -> String {
        if let explicitURL { return explicitURL }
        if let cluster = try? localCluster, cluster.isRunning { return cluster.conninfo(database: database) }
        return ""
    }

    var logger: Logger {
        var logger = Logger(label: "pgperm")
        logger.logLevel = verbose ? .debug : .warning
        return logger
    }

    func connect() async throws -> Connection {
        try await Connection.connect(try conninfo(), logger: logger)
    }
}

enum LocalDevelopment {
    /// The database `pgperm up` creates in the local cluster.
    static let database = "pgperm"
}
