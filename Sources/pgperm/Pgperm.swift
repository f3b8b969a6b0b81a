import ArgumentParser

@main
struct Pgperm: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pgperm",
        abstract: "A permissions model for PostgreSQL: install it, inspect it, run it locally, run it as a platform.",
        discussion: """
            One auth database (up, install, status, user, permissions): --database-url, else \
            $DATABASE_URL, else the local cluster started by `pgperm up` (in --data-dir), else \
            libpq's defaults (PGHOST, PGDATABASE, .pgpass, ...). `sql` connects to nothing; \
            `bench` starts a disposable cluster unless given --database-url.
            The platform (tenant, server, org, admin, migrate, doctor, serve): its configuration from the \
            environment and .env (MASTER_DB_*, TENANT_ENCRYPTION_KEY, ...), overridden by flags \
            such as --master-host; with no host, the local cluster of `pgperm up`.
            """,
        subcommands: [
            Up.self, Down.self, Install.self, Status.self, PrintSQL.self, Bench.self,
            TenantCommand.self, ServerCommand.self, UserCommand.self, PermissionsCommand.self, OrganizationCommand.self, AdminCommand.self, MigrateCommand.self,
            DoctorCommand.self, Serve.self,
        ]
    )
}
