import ArgumentParser
import TenantPlatform

struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Register, list, drain and remove the PostgreSQL servers tenant databases live on.",
        discussion: """
            The server of the configuration (MASTER_DB_HOST, PG_ADMIN_USER, ...) is registered as "main" \
            automatically, so one server needs no step. New tenants go to the active server with the most free \
            capacity (or `tenant create --server NAME`); `tenant move` copies a tenant to another server.
            Configuration: \(PlatformConfiguration.variables.joined(separator: ", ")), from flags, the environment or .env.
            """,
        subcommands: [Add.self, List.self, Show.self, Update.self, Drain.self, Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a server after checking its admin login may create databases and roles.",
            discussion: """
                The admin password is read from standard input with --admin-password-stdin (sealed with \
                TENANT_ENCRYPTION_KEY like tenant credentials); without it the server must let the admin in without \
                one (peer or trust authentication, or ~/.pgpass).
                Example: echo "$PW" | pgperm server add pg-eu-2 --host 10.0.0.12 --admin-user pgperm --admin-password-stdin
                """)
        @OptionGroup var platform: PlatformOptions
        @Argument(help: "The server's name: 2–40 lower-case letters, digits and hyphens.") var name: String
        @Option(help: "Host name, IP address, or Unix-socket directory (starting with /).") var host: String
        @Option(help: "Port.") var port = 5432
        @Option(name: .customLong("admin-user"), help: "A role with CREATEDB and CREATEROLE (or a superuser).") var adminUser: String
        @Flag(name: .customLong("admin-password-stdin"), help: "Read the admin's password from standard input.")
        var passwordFromStdin = false
        @Option(help: "How many tenants it may hold.") var capacity = 500
        @Option(name: .customLong("max-connections"),
                help: "Ceiling on tenant connections to it per platform process (default: TENANT_MAX_CONNECTIONS).")
        var maxConnections: Int?

        func run() async throws {
            let password = passwordFromStdin ? try SecretInput.readLine(prompt: "Password of \(adminUser): ") : nil
            let server = try await withPlatform(platform) { platform in
                try await platform.serverAdministration.add(.init(
                    name: name, address: .init(host: host, port: port), adminUser: adminUser, adminPassword: password,
                    capacity: capacity, maxConnections: maxConnections))
            }
            print("Server \(server.name) (\(server.address.host):\(server.address.port)) is registered and active, "
                  + "for up to \(server.capacity) tenants.")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List servers with status, tenants and capacity.")
        @OptionGroup var platform: PlatformOptions

        func run() async throws {
            let servers = try await withPlatform(platform) { try await $0.servers.all() }
            printTable(["name", "address", "status", "tenants", "capacity", "max connections"], servers.map {
                [$0.name, "\($0.address.host):\($0.address.port)", $0.status.rawValue, "\($0.tenantCount)", "\($0.capacity)",
                 $0.maxConnections.map(String.init) ?? "default"]
            })
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one server and the tenants on it.")
        @OptionGroup var platform: PlatformOptions
        @Argument(help: "The server's name.") var name: String

        func run() async throws {
            try await withPlatform(platform) { platform in
                let server = try await platform.servers.require(name: name)
                let tenants = try await platform.directory.all(on: server.id)
                printTable(["field", "value"], [
                    ["id", server.id.description], ["name", server.name], ["host", server.address.host],
                    ["port", "\(server.address.port)"], ["admin user", server.adminUser],
                    ["admin password", server.fromConfiguration ? "PG_ADMIN_PASSWORD of each process's configuration"
                        : server.adminPasswordEncrypted == nil ? "none" : "sealed"],
                    ["status", server.status.rawValue], ["tenants", "\(server.tenantCount) of \(server.capacity)"],
                    ["max connections", server.maxConnections.map(String.init) ?? "TENANT_MAX_CONNECTIONS"],
                    ["from configuration", server.fromConfiguration
                        ? "yes: each process reaches it as its own configuration says (address above: the first start's)" : "no"],
                    ["tenant slugs", tenants.isEmpty ? "-" : tenants.map(\.slug).joined(separator: ", ")],
                ])
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a server's status, capacity or connection ceiling.")
        @OptionGroup var platform: PlatformOptions
        @Argument(help: "The server's name.") var name: String
        @Option(help: "active, draining (no new tenants) or down (its tenants fail fast).") var status: String?
        @Option(help: "How many tenants it may hold.") var capacity: Int?
        @Option(name: .customLong("max-connections"), help: "Ceiling on tenant connections per process; 0 for TENANT_MAX_CONNECTIONS.")
        var maxConnections: Int?

        func validate() throws {
            guard status != nil || capacity != nil || maxConnections != nil else {
                throw ValidationError("nothing to update: pass --status, --capacity or --max-connections")
            }
            if let status, DatabaseServer.Status(rawValue: status) == nil {
                throw ValidationError("--status must be active, draining or down")
            }
        }

        func run() async throws {
            let ceiling: Int?? = maxConnections.map { $0 == 0 ? .some(nil) : .some($0) } ?? nil
            let server = try await withPlatform(platform) { platform in
                try await platform.serverAdministration.update(name, status: status.flatMap(DatabaseServer.Status.init(rawValue:)),
                                                               capacity: capacity, maxConnections: ceiling)
            }
            print("Server \(server.name): \(server.status.rawValue), \(server.tenantCount) of \(server.capacity) tenants.")
        }
    }

    struct Drain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop placing new tenants on a server; its tenants stay until moved (`pgperm tenant move`).")
        @OptionGroup var platform: PlatformOptions
        @Argument(help: "The server's name.") var name: String

        func run() async throws {
            let server = try await withPlatform(platform) { try await $0.serverAdministration.drain(name) }
            print("Server \(server.name) is draining: no new tenants; \(server.tenantCount) still live there.")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Forget a server that holds no tenant (refused while any does). Its databases are not touched.")
        @OptionGroup var platform: PlatformOptions
        @Argument(help: "The server's name.") var name: String

        func run() async throws {
            try await withPlatform(platform) { try await $0.serverAdministration.remove(name) }
            print("Server \(name) is no longer registered.")
        }
    }
}
