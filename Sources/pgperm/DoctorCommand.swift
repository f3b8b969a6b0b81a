import ArgumentParser
import TenantPlatform

struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Find what the registry and the server disagree on, and tenant roles that reach beyond their own database.",
        discussion: """
            Reports databases and roles named with the tenant prefix that the registry does not \
            know, registered tenants without their database, unfinished creations, and tenant \
            roles that may connect to another database or belong to a role outside their tenant, \
            each with advice. It only reports, and exits with status 1 when it reports anything.
            """)
    @OptionGroup var platform: PlatformOptions

    func run() async throws {
        let findings = try await withPlatform(platform) { try await PlatformDoctor(platform: $0).examine() }
        guard !findings.isEmpty else { return print("Registry and server agree: nothing to report.") }
        findings.forEach { print("- \($0)") }
        throw ExitCode(1)
    }
}
