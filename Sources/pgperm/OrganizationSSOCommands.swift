import ArgumentParser
import Foundation
import SingleSignOn
import TenantPlatform

extension OrganizationCommand {
    struct SSO: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sso",
            abstract: "Single sign-on (Microsoft Entra ID or OpenID Connect) for an organization's tenants; the client secret is stored encrypted.",
            subcommands: [SetSettings.self, ShowSettings.self, TestSettings.self, RemoveSettings.self])

        static func rows(_ sso: SSOSettings) -> [[String]] {
            let provider: [[String]] = switch sso.provider {
            case .entraID(let tenantID): [["sso", "Microsoft Entra ID"], ["entra tenant id", tenantID]]
            case .openIDConnect(let issuer): [["sso", "OpenID Connect"], ["issuer", issuer]]
            }
            return provider + [
                ["client id", sso.clientID],
                ["allowed domains", sso.allowedDomains.isEmpty ? "any account of the directory" : sso.allowedDomains.joined(separator: ", ")],
                ["just-in-time members", sso.justInTime.enabled ? "on, with set \(sso.justInTime.permSet ?? "(none)")" : "off"],
                ["client secret", sso.clientSecret ?? "(encrypted; --reveal-secret shows it)"],
                ["updated", sso.updatedAt.formatted(.iso8601)]]
        }
    }

    struct SetSettings: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Set or replace an organization's single sign-on settings.",
            discussion: """
                Give the provider as --entra-tenant-id (Microsoft Entra ID) or --issuer (any OpenID Connect \
                provider with a discovery document). The client secret is read from standard input \
                (--client-secret-stdin), never from a flag, which would leave it in the shell history. Without it \
                the current secret is kept. A domain belongs to one organization only.
                """)
        @OptionGroup var platform: PlatformOptions
        @Argument(help: "Name or id.") var organization: String
        @Option(name: .customLong("entra-tenant-id"), help: "Microsoft Entra ID: the Directory (tenant) ID, a GUID or a domain.")
        var entraTenantID: String?
        @Option(name: .customLong("issuer"), help: "Another OpenID Connect provider: its issuer URL (https).") var issuer: String?
        @Option(name: .customLong("client-id"), help: "The Application (client) ID (a GUID for Entra ID).") var clientID: String
        @Flag(name: .customLong("jit"), inversion: .prefixedNo,
              help: "Whether a first sign-in of an allowed email creates the member (default: keep the current setting, off when new).")
        var justInTime: Bool?
        @Option(name: .customLong("jit-perm-set"), help: "The permission set code new members get in the tenant (with --jit).")
        var justInTimePermSet: String?
        @Flag(name: .customLong("client-secret-stdin"), help: "Read the client secret from standard input.") var clientSecretFromStdin = false
        @Option(name: .customLong("allowed-domain"),
                help: ArgumentHelp("An email domain allowed to sign in (repeat, or separate with commas). None: any account of the directory.",
                                   valueName: "domain"))
        var allowedDomains: [String] = []

        func run() async throws {
            let provider: SSOProvider
            switch (entraTenantID, issuer) {
            case (let tenantID?, nil): provider = .entraID(tenantID: tenantID)
            case (nil, let issuer?): provider = .openIDConnect(issuer: issuer)
            default: throw ValidationError("Give exactly one of --entra-tenant-id (Microsoft Entra ID) and --issuer (OpenID Connect).")
            }
            if justInTimePermSet != nil, justInTime != true {
                throw ValidationError("--jit-perm-set needs --jit.")
            }
            let secret = clientSecretFromStdin ? try SecretInput.readLine(prompt: "Client secret: ") : nil
            let domains = allowedDomains.flatMap { $0.split(separator: ",").map(String.init) }
            let justInTime = justInTime.map { JustInTimeMembership(enabled: $0, permSet: justInTimePermSet) }
            let sso = try await withPlatform(platform) {
                try await $0.organizations.setSSO(of: organization, provider: provider, clientID: clientID,
                                                  clientSecret: secret, allowedDomains: domains, justInTime: justInTime)
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

    struct TestSettings: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "test",
            abstract: "Fetch the provider's discovery document and key set, and print what was found or the exact failure.")
        @OptionGroup var platform: PlatformOptions
        @Argument(help: "Name or id.") var organization: String
        @Option(name: .customLong("timeout"), help: "Seconds to wait for each answer.") var timeout: Int = 10

        func run() async throws {
            let report = try await withPlatform(platform) { platform in
                guard let sso = try await platform.organizations.sso(of: organization) else {
                    throw ValidationError("Organization \(organization) has no SSO settings. Set them with: pgperm org sso set")
                }
                return try await SingleSignOnClient(platform: platform, configuration: .init(timeout: .seconds(timeout))).test(sso)
            }
            printTable(["field", "value"], [
                ["discovery document", report.discoveryURL], ["issuer", report.metadata.issuer],
                ["authorization endpoint", report.metadata.authorizationEndpoint], ["token endpoint", report.metadata.tokenEndpoint],
                ["key set", report.metadata.jwksURI],
                ["signing keys", report.keys.map { "\($0.id) (\($0.type)\($0.algorithm.map { " " + $0 } ?? ""))" }.joined(separator: ", ")],
            ])
            print("The provider answers as expected.")
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
