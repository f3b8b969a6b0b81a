import ArgumentParser
import Logging
import Permissions

/// How the schema is installed: the names of the group roles it creates.
struct SchemaOptions: ParsableArguments {
    @Option(help: "Prefix of the group roles the install grants to: <prefix>_app and <prefix>_admin (default: the prefix of the database's last install, else auth).")
    var rolePrefix: String?

    func validate() throws {
        if let rolePrefix, rolePrefix.wholeMatch(of: /[a-z_][a-z0-9_]{0,50}/) == nil {
            throw ValidationError("--role-prefix must be lower-case letters, digits and _ (at most 51), e.g. myapp_auth")
        }
    }

    func installer(logger: Logger = .disabled) throws -> SchemaInstaller {
        SchemaInstaller(manifest: try .auth(), rolePrefix: rolePrefix, logger: logger)
    }
}

struct Install: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Install or upgrade the auth schema in a database.",
        discussion: """
            Runs in one transaction under an advisory lock; running it again is a no-op. Each file \
            is recorded with its checksum in pgperm.applied_file, as psql records it from \
            sql/install.sql or `pgperm sql`, so either installer upgrades what the other installed.

            Example:
              pgperm install --database-url postgresql://localhost/mydb --role-prefix app
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var schema: SchemaOptions

    func run() async throws {
        let database = try await connection.connect()
        defer { Task { await database.close() } }
        let report = try await schema.installer(logger: connection.logger).install(on: database)
        print(report)
        for file in report.appliedFiles { print("  applied sql/\(file)") }
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the installed schema version and what an install would apply.",
        discussion: """
            Says up to date exactly when `pgperm install` (with the same --role-prefix) would apply \
            nothing, whether the schema was installed by pgperm or by psql. Changes nothing.
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var schema: SchemaOptions

    func run() async throws {
        let database = try await connection.connect()
        defer { Task { await database.close() } }
        print(try await schema.installer().status(on: database))
    }
}

struct PrintSQL: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sql",
        abstract: "Print the full install script, for psql.",
        discussion: """
            Every file inlined, each recorded with the checksum `pgperm install` records, so \
            `pgperm status` finds the result up to date. Connects to no database; without \
            --role-prefix the script keeps the prefix of the database it runs on (else auth).

            Example:
              pgperm sql > pgperm.sql && psql -v ON_ERROR_STOP=1 -d mydb -f pgperm.sql
            """)

    @OptionGroup var schema: SchemaOptions

    func run() async throws {
        print(try schema.installer().psqlScript(), terminator: "")
    }
}
