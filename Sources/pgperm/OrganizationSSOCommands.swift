import ArgumentParser
import Foundation
import TenantPlatform

extension OrganizationCommand {
    struct SSO: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sso",
            abstract: "Microsoft Entra ID sign-in for an organization's tenants; the client secret is stored encrypted.",
            subcommands: [SetSettings.self, ShowSettings.self, RemoveSettings.self])

        static func rows(_ sso: SSOSettings) -> [[String]] {
            [["sso", "Microsoft Entra ID"], ["entra tenant id", sso.entraTenantID], ["client id", sso.clientID],
             ["allowed domains", sso.allowedDomains.isEmpty ? "any account of the directory" : sso.allowedDomains.joined(separator: ", ")],
             ["client secret", sso.clientSecret ?? "(encrypted; --reveal-secret shows it)"],
             ["updated", sso.updatedAt.formatted(.iso8601)]]
        }
    }

    struct SetSettings: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Set or replace an organization's Entra ID settings.",
            discussion: """
                The client secret is read from standard input (--client-secret-stdin), never from a flag, which \
                would leave it in the shell history. Without it the current secret is kept.
                """)
        @OptionGroup var platform: PlatformOptions
        @Argument(help: "Name or id.") var organization: String
        @Option(name: .customLong("entra-tenant-id"), help: "The Directory (tenant) ID: a GUID or a domain.") var entraTenantID: String
        @Option(name: .customLong("client-id"), help: "The Application (client) ID, a GUID.") var clientID: String
        @Flag(name: .customLong("client-secret-stdin"), help: "Read the client secret from standard input.") var clientSecretFromStdin = false
        @Option(name: .customLong("allowed-domain"),
                help: ArgumentHelp("An email domain allowed to sign in (repeat, or separate with commas). None: any account of the directory.",
                                   valueName: "domain"))
        var allowedDomains: [String] = []

        func run() async throws {
            let secret = clientSecretFromStdin ? try SecretInput.readLine(prompt: "Client secret: ") : nil
            let domains = allowedDomains.flatMap { $0.split(separator: ",").map(String.init) }
            let sso = try await withPlatform(platform) {
                try await $0.organizations.setSSO(of: organization, entraTenantID: entraTenantID, clientID: clientID,
                                                  clientSecret: secret, allowedDomains: domains)
            }
            print("SSO settings of \(organization) saved (client secret \(secret == nil ? "kept" : "encrypted")).")
            printTable(["field", "value"], SSO.rows(sso))
        }
    }

    struct ShowSettings: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show an organization's Entra ID settings.")
        @OptionGroup var platform: PlatformOptions
        @Argument(help: "Name or id.") var organization: String
        @Flag(name: .customLong("reveal-secret"), help: "Decrypt and print the client secret (audited).") var revealSecret = false

        func run() async throws {
            let sso = try await withPlatform(platform) { try await $0.organizations.sso(of: organization, revealingSecret: revealSecret) }
            guard let sso else { return print("Organization \(organization) has no SSO settings. Set them with: pgperm org sso set") }
            printTable(["field", "value"], SSO.rows(sso))
        }
    }

    struct RemoveSettings: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove an organization's Entra ID settings.")
        @OptionGroup var platform: PlatformOptions
        @Argument(help: "Name or id.") var organization: String

        func run() async throws {
            try await withPlatform(platform) { try await $0.organizations.removeSSO(of: organization) }
            print("SSO settings of \(organization) removed.")
        }
    }
}
