import ArgumentParser
import Foundation
import TenantPlatform

struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin",
        abstract: "Manage admin-portal users: superadmins manage everything, regular admins the tenants granted to them.",
        discussion: "Admin users are named by email (any case) or id.",
        subcommands: [Create.self, List.self, Password.self, Delete.self, Grant.self, Revoke.self, Activate.self, Deactivate.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an admin user; its password is stored as a bcrypt hash.",
            discussion: """
                The password is read from standard input with --password-stdin, or generated and printed once. \
                There is no --password flag: its value would stay in the shell history and show in the process list.
                """)
        @OptionGroup var platform: PlatformOptions
        @Option(help: "The admin user's email, with which it signs in.") var email: String
        @Flag(help: "Full platform access, admin users included.") var superadmin = false
        @Flag(name: .customLong("password-stdin"), help: "Read the password (8 to 72 bytes) from standard input.")
        var passwordFromStdin = false

        func run() async throws {
            let password = passwordFromStdin ? try SecretInput.readLine(prompt: "Password for \(email): ") : nil
            let created = try await withPlatform(platform) {
                try await $0.adminUsers.create(email: email, password: password, superadmin: superadmin)
            }
            print("Admin user \(created.user.email) created (\(created.user.role.rawValue)).")
            if let generated = created.generatedPassword {
                print("Password: \(generated)")
                print("It is shown only this once; only its hash is stored.")
            }
            if !created.user.isSuperadmin {
                print("Grant tenants with: pgperm admin grant \(created.user.email) <tenant-slug>")
            }
        }
    }

    struct Password: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reset an admin user's password; its portal sessions end.",
            discussion: """
                The new password is read from standard input with --password-stdin, or generated and printed once. \
                Every session of the admin user in the portal ends in the same transaction.
                """)
        @OptionGroup var platform: PlatformOptions
        @Argument(help: "Email or id.") var admin: String
        @Flag(name: .customLong("password-stdin"), help: "Read the new password (8 to 72 bytes) from standard input.")
        var passwordFromStdin = false

        func run() async throws {
            let password = passwordFromStdin ? try SecretInput.readLine(prompt: "New password for \(admin): ") : nil
            let generated = try await withPlatform(platform) { try await $0.adminUsers.setPassword(admin, password: password) }
            print("The password of admin user \(admin) is changed; its portal sessions have ended.")
            if let generated {
                print("Password: \(generated)")
                print("It is shown only this once; only its hash is stored.")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List admin users with their role, state and tenants.")
        @OptionGroup var platform: PlatformOptions

        func run() async throws {
            try await withPlatform(platform) { platform in
                let users = try await platform.adminUsers.all()
                guard !users.isEmpty else { return print("No admin users yet. Create one with: pgperm admin create --email EMAIL --superadmin") }
                printTable(["email", "role", "active", "tenants"], users.map {
                    [$0.email, $0.role.rawValue, $0.isActive ? "yes" : "no",
                     $0.isSuperadmin ? "all" : ($0.tenantSlugs.isEmpty ? "-" : $0.tenantSlugs.joined(separator: ", "))]
                })
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete an admin user and its grants.")
        @OptionGroup var platform: PlatformOptions
        @Argument(help: "Email or id.") var admin: String
        @Flag(help: "Do not ask for confirmation.") var yes = false

        func run() async throws {
            try await withPlatform(platform) { platform in
                let user = try await platform.adminUsers.require(admin)
                if !yes {
                    print("This deletes admin user \(user.email) (\(user.role.rawValue)). Type the email to confirm: ", terminator: "")
                    guard readLine()?.trimmingCharacters(in: .whitespaces).lowercased() == user.email.lowercased() else {
                        throw PlatformError(.notConfirmed, "not confirmed; nothing was deleted", hint: "Type the email, or pass --yes.")
                    }
                }
                try await platform.adminUsers.delete(user.id.description)
            }
            print("Admin user \(admin) is deleted.")
        }
    }

    struct Grant: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Let a regular admin manage a tenant.")
        @OptionGroup var platform: PlatformOptions
        @Argument(help: "Email or id.") var admin: String
        @Argument(help: "The tenant's slug.") var tenant: String

        func run() async throws {
            let granted = try await withPlatform(platform) { try await $0.adminUsers.grant(tenant: tenant, to: admin) }
            print(granted ? "\(admin) now manages tenant \(tenant)." : "\(admin) already manages tenant \(tenant).")
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop a regular admin from managing a tenant.")
        @OptionGroup var platform: PlatformOptions
        @Argument(help: "Email or id.") var admin: String
        @Argument(help: "The tenant's slug.") var tenant: String

        func run() async throws {
            try await withPlatform(platform) { try await $0.adminUsers.revoke(tenant: tenant, from: admin) }
            print("\(admin) no longer manages tenant \(tenant).")
        }
    }

    struct Activate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Allow an admin user to sign in again.")
        @OptionGroup var platform: PlatformOptions
        @Argument(help: "Email or id.") var admin: String

        func run() async throws {
            try await withPlatform(platform) { try await $0.adminUsers.setActive(admin, true) }
            print("Admin user \(admin) is active.")
        }
    }

    struct Deactivate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Refuse an admin user's sign-in, keeping its record and grants.")
        @OptionGroup var platform: PlatformOptions
        @Argument(help: "Email or id.") var admin: String

        func run() async throws {
            try await withPlatform(platform) { try await $0.adminUsers.setActive(admin, false) }
            print("Admin user \(admin) is inactive.")
        }
    }
}
