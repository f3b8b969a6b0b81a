import ArgumentParser

@main
struct Pgperm: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pgperm",
        abstract: "A permissions model for PostgreSQL: install it, inspect it, run it locally.",
        discussion: """
            Connection: --database-url, else $DATABASE_URL, else the local cluster started by \
            `pgperm up` (in --data-dir), else libpq's defaults (PGHOST, PGDATABASE, .pgpass, ...).
            """,
        subcommands: [
            Up.self, Down.self, Install.self, Status.self, PrintSQL.self, Bench.self,
            TenantCommand.self, UserCommand.self, OrganizationCommand.self, AdminCommand.self, MigrateCommand.self, DoctorCommand.self, Serve.self,
        ]
    )
}
