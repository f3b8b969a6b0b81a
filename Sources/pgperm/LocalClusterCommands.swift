import ArgumentParser
import Foundation
import LocalPostgres
import Permissions
import PQ

struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Bring the system up: a database with the auth schema installed.",
        discussion: """
            With --database-url or $DATABASE_URL, installs the schema there. Otherwise creates \
            (or reuses) a local PostgreSQL cluster in --data-dir, starts it, creates the database \
            `pgperm`, installs the schema, and prints how to connect.
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var schema: SchemaOptions

    @Option(help: "Port for a new local cluster (default: a free port).")
    var port: Int?

    func validate() throws {
        if let port, !(1...65535).contains(port) { throw ValidationError("--port must be between 1 and 65535") }
    }

    func run() async throws {
        if let url = connection.explicitURL {
            try await install(conninfo: url)
            print("Connect with: psql \(shellQuoted(url))")
            return
        }
        let cluster = try connection.localCluster
        if !cluster.isInitialized {
            print("Creating a PostgreSQL cluster in \(cluster.dataDirectory.path) ...")
            try cluster.initialize(.init(port: port, listenOnLoopback: true))
        }
        if !cluster.isRunning {
            try cluster.start()
            print("Started PostgreSQL on 127.0.0.1:\(cluster.port ?? 0) (log: \(cluster.logFile.path))")
        }
        let admin = try await Connection.connect(cluster.conninfo(), logger: connection.logger)
        defer { Task { await admin.close() } }
        let exists = try await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [LocalDevelopment.database])
        if exists.isEmpty { try await admin.query("CREATE DATABASE \(LocalDevelopment.database)") }

        let rolePrefix = try await install(conninfo: cluster.conninfo(database: LocalDevelopment.database))
        let logins = try await LocalLogins(cluster: cluster, rolePrefix: rolePrefix)
            .ensure(on: admin, database: LocalDevelopment.database)
        let url = cluster.url(database: LocalDevelopment.database)
        var lines = [""]
        for (login, loginURL) in logins {
            lines.append("\(login.role) (\(login.groupRole), \(login.purpose)):")
            lines.append("    \(loginURL)")
        }
        lines += [
            "postgres (superuser: installs and upgrades; bypasses privileges and row-level security):",
            "    \(url)",
            "",
            "Open it with:  psql \(shellQuoted(logins.last?.url ?? url))",
            "Stop it with:  swift run pgperm down\(connection.dataDirectory == ".pgperm" ? "" : " --data-dir \(connection.dataDirectory)")",
        ]
        print(lines.joined(separator: "\n"))
    }

    /// Installs or upgrades the schema; returns the role prefix it used.
    @discardableResult
    private func install(conninfo: String) async throws -> String {
        let database = try await Connection.connect(conninfo, logger: connection.logger)
        defer { Task { await database.close() } }
        let installer = try schema.installer(logger: connection.logger)
        print(try await installer.install(on: database))
        return try await installer.effectiveRolePrefix(on: database)
    }
}

struct Down: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stop the local cluster started by `pgperm up`.",
        discussion: "Its data stays in --data-dir; `pgperm up` starts it again.")

    // Not ConnectionOptions: stopping the local cluster needs its folder only.
    @Option(name: .customLong("data-dir"), help: ArgumentHelp("The folder of the local development cluster.", valueName: "path"))
    var dataDirectory = ".pgperm"

    func run() async throws {
        let cluster = try LocalCluster(directory: URL(fileURLWithPath: dataDirectory))
        guard cluster.isRunning else {
            print("No local cluster is running in \(cluster.directory.path).")
            return
        }
        try cluster.stop()
        print("Stopped the local cluster in \(cluster.directory.path). Its data stays there; `pgperm up` restarts it.")
    }
}

func shellQuoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }
