import ArgumentParser
import TenantPlatform

struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Find tenant databases and roles the registry does not know, and tenants whose database is missing.")
    @OptionGroup var platform: PlatformOptions

    func run() async throws {
        let findings = try await withPlatform(platform) { try await PlatformDoctor(platform: $0).examine() }
        guard !findings.isEmpty else { return print("Registry and server agree: nothing to report.") }
        findings.forEach { print("- \($0)") }
        throw ExitCode(1)
    }
}
