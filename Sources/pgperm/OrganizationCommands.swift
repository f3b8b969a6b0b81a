import ArgumentParser
import Foundation
import TenantPlatform

struct OrganizationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "org",
        abstract: "Group tenants into organizations and configure their Microsoft Entra ID sign-in.",
        discussion: "Organizations are named by their name or their id.",
        subcommands: [Create.self, List.self, Show.self, Delete.self, Assign.self, Unassign.self, SSO.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an organization.")
        @OptionGroup var platform: PlatformOptions
        @Option(help: "A unique display name.") var name: String
        @Option(name: .customLong("admin-email"), help: "Who to contact about the organization.") var adminEmail: String

        func run() async throws {
            let organization = try await withPlatform(platform) { try await $0.organizations.create(name: name, adminEmail: adminEmail) }
            print("Organization \(organization.name) created (id \(organization.id.description)).")
            print("Link tenants with: pgperm org assign '\(organization.name)' <tenant-slug>")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List organizations with their tenant count and SSO state.")
        @OptionGroup var platform: PlatformOptions

        func run() async throws {
            try await withPlatform(platform) { platform in
                let organizations = try await platform.organizations.all()
                guard !organizations.isEmpty else {
                    return print("No organizations yet. Create one with: pgperm org create --name NAME --admin-email EMAIL")
                }
                printTable(["name", "admin email", "tenants", "sso", "id"], organizations.map {
                    [$0.name, $0.adminEmail ?? "-", "\($0.tenantCount)", $0.hasSSO ? "entra id" : "-", $0.id.description]
                })
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show an organization, its tenants and its SSO settings (secret hidden).")
        @OptionGroup var platform: PlatformOptions
        @Argument(help: "Name or id.") var organization: String

        func run() async throws {
            try await withPlatform(platform) { platform in
                let o = try await platform.organizations.require(organization)
                var rows = [["id", o.id.description], ["name", o.name], ["admin email", o.adminEmail ?? "-"],
                            ["tenants", o.tenantSlugs.isEmpty ? "-" : o.tenantSlugs.joined(separator: ", ")]]
                if let sso = try await platform.organizations.sso(of: o.id.description) {
                    rows += SSO.rows(sso)
                } else {
                    rows.append(["sso", "not configured"])
                }
                printTable(["field", "value"], rows)
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete an organization and its SSO settings. Its tenants are unlinked, never deleted.")
        @OptionGroup var platform: PlatformOptions
        @Argument(help: "Name or id.") var organization: String
        @Flag(help: "Do not ask for confirmation.") var yes = false

        func run() async throws {
            let unlinked = try await withPlatform(platform) { platform in
                let o = try await platform.organizations.require(organization)
                if !yes {
                    print("This deletes organization \(o.name) and its SSO settings; its \(o.tenantCount) tenant(s) stay, unlinked. "
                          + "Type its name to confirm: ", terminator: "")
                    guard readLine()?.trimmingCharacters(in: .whitespaces) == o.name else {
                        throw PlatformError(.notConfirmed, "not confirmed; nothing was deleted", hint: "Type the name exactly, or pass --yes.")
                    }
                }
                return try await platform.organizations.delete(o.id.description)
            }
            print("Organization \(organization) is deleted." + (unlinked.isEmpty ? "" : " Unlinked tenants: \(unlinked.joined(separator: ", "))."))
        }
    }

    struct Assign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Link a tenant to an organization (moving it from another one).")
        @OptionGroup var platform: PlatformOptions
        @Argument(help: "Name or id.") var organization: String
        @Argument(help: "The tenant's slug.") var tenant: String

        func run() async throws {
            let previous = try await withPlatform(platform) { try await $0.organizations.assign(tenant: tenant, to: organization) }
            print("Tenant \(tenant) is in organization \(organization)" + (previous.map { " (moved from \($0))." } ?? "."))
        }
    }

    struct Unassign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Unlink a tenant from its organization; the tenant is not changed otherwise.")
        @OptionGroup var platform: PlatformOptions
        @Argument(help: "Name or id.") var organization: String
        @Argument(help: "The tenant's slug.") var tenant: String

        func run() async throws {
            try await withPlatform(platform) { try await $0.organizations.unassign(tenant: tenant, from: organization) }
            print("Tenant \(tenant) is no longer in organization \(organization).")
        }
    }
}
