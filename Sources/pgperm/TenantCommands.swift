import ArgumentParser
import Foundation
import TenantPlatform

struct TenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenant",
        abstract: "Create, inspect, suspend and delete tenants, each with its own database.",
        discussion: "Configuration: \(PlatformConfiguration.variables.joined(separator: ", ")), from flags, the environment or .env.",
        subcommands: [Create.self, List.self, Show.self, Credentials.self, Update.self, Suspend.self, Resume.self,
                      Delete.self, Test.self, Move.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Provision a tenant: role, database (cloned from the template), schema, seed, credentials.",
            discussion: "With --resume, finishes a creation that stopped part-way (status provisioning or failed).")
        @OptionGroup var platform: PlatformOptions
        @Option(help: "The tenant's display name (not needed with --resume).") var name: String?
        @Option(help: "The tenant's name in URLs (/t/{slug}/) and commands: 2–40 lower-case letters, digits and single hyphens, not first or last.")
        var slug: String?
        @Option(name: .customLong("resume"), help: ArgumentHelp("Finish creating this tenant.", valueName: "slug"))
        var resumeSlug: String?
        @Option(help: ArgumentHelp("The database server to put it on (default: the active one with the most free capacity).",
                                   valueName: "name"))
        var server: String?
        @Flag(help: "Replay the schema instead of cloning the template database.") var noTemplate = false

        func validate() throws {
            guard resumeSlug != nil || (name != nil && slug != nil) else {
                throw ValidationError("pass --name and --slug, or --resume <slug>")
            }
        }

        func run() async throws {
            try await withPlatform(platform) { platform in
                let provisioner = TenantProvisioner(platform: platform, useTemplate: !noTemplate) { step in
                    print("  \(step.rawValue) ...")
                }
                let report = if let resumeSlug {
                    try await provisioner.continueCreation(slug: resumeSlug)
                } else {
                    try await provisioner.create(name: name!, slug: slug!, server: server)
                }
                print("Tenant \(report.tenant.slug) is \(report.tenant.status.rawValue): database \(report.tenant.databaseName) "
                      + "on server \(report.tenant.server.name), "
                      + "\(report.clonedFromTemplate ? "cloned from the template" : "schema replayed") in \(report.duration.formattedSeconds).")
                print("Show its credentials with: pgperm tenant credentials \(report.tenant.slug)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tenants with status, server, database and schema version.")
        @OptionGroup var platform: PlatformOptions

        func run() async throws {
            try await withPlatform(platform) { platform in
                let tenants = try await platform.directory.all()
                guard !tenants.isEmpty else { return print("No tenants yet. Create one with: pgperm tenant create --name NAME --slug SLUG") }
                printTable(["slug", "name", "status", "server", "database", "schema"], tenants.map {
                    [$0.slug, $0.record.name, $0.status.rawValue, $0.server.name, $0.databaseName, $0.record.schemaVersion ?? "-"]
                })
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one tenant's record.")
        @OptionGroup var platform: PlatformOptions
        @Argument(help: "The tenant's slug.") var slug: String

        func run() async throws {
            try await withPlatform(platform) { platform in
                let handle = try await platform.directory.require(slug: slug)
                let t = handle.record
                printTable(["field", "value"], [
                    ["id", t.id.description], ["name", t.name], ["slug", t.slug], ["status", t.status.rawValue],
                    ["server", handle.server.name], ["database", t.databaseName], ["role", t.roleName],
                    ["tenant id in its database", t.authTenantID?.description ?? "-"], ["schema version", t.schemaVersion ?? "-"],
                    ["organization", t.organizationID?.description ?? "-"], ["admin email", t.adminEmail],
                    ["key version", "\(t.keyVersion)"], ["last step", t.provisioningStep ?? "-"], ["last error", t.lastError ?? "-"],
                ])
            }
        }
    }

    struct Credentials: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the generated admin email and password and the database connection string (audited).")
        @OptionGroup var platform: PlatformOptions
        @Argument(help: "The tenant's slug.") var slug: String

        func run() async throws {
            try await withPlatform(platform) { platform in
                let c = try await TenantLifecycle(platform: platform).credentials(slug: slug)
                print("""
                    admin email:     \(c.adminEmail)
                    admin password:  \(c.adminPassword)
                    database:        \(c.databaseName)
                    role:            \(c.roleName)
                    connection:      \(c.conninfo)
                    """)
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rename a tenant, change its slug (its database keeps its name), or set its status.")
        @OptionGroup var platform: PlatformOptions
        @Argument(help: "The tenant's slug.") var slug: String
        @Option(help: "The new display name.") var name: String?
        @Option(name: .customLong("new-slug"), help: "The new slug; the database and role keep their names.") var newSlug: String?
        @Option(help: "active or inactive (same as resume / suspend).") var status: String?

        func validate() throws {
            guard name != nil || newSlug != nil || status != nil else { throw ValidationError("nothing to update: pass --name, --new-slug or --status") }
        }

        func run() async throws {
            let change = TenantChange(name: name, slug: newSlug, status: try status.map(TenantChange.status))
            let updated = try await withPlatform(platform) { try await TenantLifecycle(platform: $0).update(slug: slug, change) }
            print("Updated tenant \(updated.slug).")
        }
    }

    struct Suspend: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set a tenant inactive: its database stays, its role may not log in, its sessions end.")
        @OptionGroup var platform: PlatformOptions
        @Argument(help: "The tenant's slug.") var slug: String

        func run() async throws {
            try await withPlatform(platform) { try await TenantLifecycle(platform: $0).suspend(slug: slug) }
            print("Tenant \(slug) is inactive (suspended): logins refused, sessions ended. `pgperm tenant resume \(slug)` reactivates it.")
        }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reactivate a suspended tenant.")
        @OptionGroup var platform: PlatformOptions
        @Argument(help: "The tenant's slug.") var slug: String

        func run() async throws {
            try await withPlatform(platform) { try await TenantLifecycle(platform: $0).resume(slug: slug) }
            print("Tenant \(slug) is active.")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Drop a tenant's database and roles and remove its record. Irreversible.")
        @OptionGroup var platform: PlatformOptions
        @Argument(help: "The tenant's slug.") var slug: String
        @Flag(help: "Do not ask for confirmation.") var yes = false

        func run() async throws {
            try await withPlatform(platform) { platform in
                let record = try await platform.directory.require(slug: slug)
                if !yes {
                    print("This drops database \(record.databaseName) and everything in it. Type the slug to confirm: ", terminator: "")
                    guard readLine()?.trimmingCharacters(in: .whitespaces) == slug else {
                        throw PlatformError(.notConfirmed, "not confirmed; nothing was deleted", hint: "Type the slug exactly, or pass --yes.")
                    }
                }
                try await TenantLifecycle(platform: platform).delete(slug: slug)
            }
            print("Tenant \(slug) and its database are deleted.")
        }
    }

    struct Move: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy a tenant's database to another server and switch to it; resumable, verified.",
            discussion: """
                Steps: roles on the new server, the old database made read-only and its sessions ended (new reads and \
                checks go on, writes are refused), pg_dump | pg_restore, then with the old tables locked against \
                writes: row counts and checksums compared and the registry switched; the old database dropped last. \
                Interrupted at any step, the same command finishes it; --abort undoes a move that has not switched \
                yet. One move of a tenant runs at a time. Needs pg_dump and pg_restore (postgresql-client).
                """)
        @OptionGroup var platform: PlatformOptions
        @Argument(help: "The tenant's slug.") var slug: String
        @Option(help: ArgumentHelp("The server to move it to (`pgperm server list`).", valueName: "server")) var to: String?
        @Flag(help: "Undo the move in progress (before its switch): the old database is writable again, the copy dropped.")
        var abort = false

        func validate() throws {
            guard (to != nil) != abort else { throw ValidationError("pass --to SERVER, or --abort") }
        }

        func run() async throws {
            try await withPlatform(platform) { platform in
                let mover = TenantMover(platform: platform) { step in print("  \(step.rawValue) ...") }
                if abort {
                    try await mover.abort(slug: slug)
                    return print("The move of \(slug) is undone; it stays where it was, writable.")
                }
                let report = try await mover.move(slug: slug, to: to!)
                print("Tenant \(slug) moved from \(report.from) to \(report.to) in \(report.duration.formattedSeconds) "
                      + "(\(report.rows) rows); writes were refused for \(report.writesRefused.formattedSeconds), from the freeze "
                      + "to the switch.")
            }
        }
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Connect with the tenant's own credentials; report latency and schema version.")
        @OptionGroup var platform: PlatformOptions
        @Argument(help: "The tenant's slug.") var slug: String

        func run() async throws {
            let result = try await withPlatform(platform) { try await TenantLifecycle(platform: $0).test(slug: slug) }
            print("Connected to \(slug) as its own role in \(result.latency.formattedMilliseconds); "
                  + "schema \(result.schemaVersion ?? "not installed"), PostgreSQL \(result.serverVersion / 10000).")
        }
    }
}

/// Prints rows as an aligned plain-text table.
func printTable(_ header: [String], _ rows: [[String]]) {
    let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
    func line(_ cells: [String]) -> String {
        zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
    }
    print(line(header))
    print(line(widths.map { String(repeating: "-", count: $0) }))
    rows.forEach { print(line($0)) }
}

extension Duration {
    var formattedSeconds: String { String(format: "%.2f s", self / .seconds(1)) }
    var formattedMilliseconds: String { String(format: "%.1f ms", self / .milliseconds(1)) }
}
