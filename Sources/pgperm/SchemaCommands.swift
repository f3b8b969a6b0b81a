import ArgumentParser
import Permissions

struct Install: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Install or upgrade the auth schema in a database.",
        discussion: "Runs in one transaction under an advisory lock; running it again is a no-op.")

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let database = try await connection.connect()
        defer { Task { await database.close() } }
        let installer = SchemaInstaller(manifest: try .auth(), logger: connection.logger)
        let report = try await installer.install(on: database)
        print(report)
        for file in report.appliedFiles { print("  applied sql/\(file)") }
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the installed schema version and what an install would apply.")

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let database = try await connection.connect()
        defer { Task { await database.close() } }
        print(try await SchemaInstaller(manifest: try .auth()).status(on: database))
    }
}

struct PrintSQL: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sql",
        abstract: "Print the full install script, for psql.",
        discussion: "Example: pgperm sql > install.sql && psql -v ON_ERROR_STOP=1 -d mydb -f install.sql")

    func run() async throws {
        print(SchemaInstaller(manifest: try .auth()).psqlScript(), terminator: "")
    }
}
