import ArgumentParser
import Foundation
import TenantPlatform

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending schema migrations to tenant databases (and their template) or to the master database.",
        discussion: """
            Tenants are migrated --jobs at a time, each in one transaction: a failed tenant stays at its old \
            version and the others go on. Every tenant gets a result row (platform.tenant_migration); the exit \
            status is non-zero if any failed, and --resume retries only those of the latest run. The template is \
            migrated first; if it fails no tenant is touched. Active and suspended tenants are migrated; tenants \
            still being created are skipped (finishing their creation installs the current schema).

            Examples:
              pgperm migrate --all-tenants --jobs 8
              pgperm migrate --tenant acme --tenant globex
              pgperm migrate --resume
              pgperm migrate --master
            """)
    @OptionGroup var platform: PlatformOptions
    @Flag(help: "Every active or suspended tenant.") var allTenants = false
    @Option(name: .customLong("tenant"), help: ArgumentHelp("A tenant to migrate (repeatable).", valueName: "slug"))
    var slugs: [String] = []
    @Flag(help: "The master database's platform schema instead of tenants.") var master = false
    @Option(help: "Tenants migrated at once.") var jobs = 4
    @Flag(help: "Retry the failed and pending tenants of the latest run.") var resume = false

    func validate() throws {
        let targets = [allTenants, !slugs.isEmpty, master].filter { $0 }.count
        guard targets == 1 || (targets == 0 && resume) else {
            throw ValidationError("pass one of --all-tenants, --tenant SLUG or --master (or --resume alone)")
        }
        guard !(master && resume) else { throw ValidationError("--resume applies to tenant runs, not --master") }
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
    }

    func run() async throws {
        if master { return try await migrateMaster() }
        let display = MigrationProgressDisplay(rewritesLine: isatty(STDOUT_FILENO) != 0)
        let run = try await withPlatform(platform) { platform in
            try await TenantMigrator(platform: platform).migrate(
                tenants: slugs.isEmpty ? .all : .slugs(slugs), jobs: jobs, resume: resume, progress: display.show)
        }
        display.finish()
        printReport(run)
        if !run.succeeded { throw ExitCode(1) }
    }

    private func migrateMaster() async throws {
        let result = try await TenantMigrator.migrateMaster(try platform.configuration(), logger: platform.logger)
        print(result.wasUpToDate
              ? "Master database \(result.database) is up to date (\(result.toVersion ?? "no version"))."
              : "Master database \(result.database): \(result.fromVersion ?? "empty") → \(result.toVersion ?? "-"), "
                + "\(result.appliedFiles.count) file(s) applied in \(result.duration.formattedSeconds).")
    }

    private func printReport(_ run: MigrationRun) {
        for template in run.templates {
            switch template.outcome {
            case .migrated(let result):
                print("Template \(result.database) on \(template.server): \(result.fromVersion ?? "empty") → \(result.toVersion ?? "-")"
                      + (result.wasUpToDate ? " (up to date)" : ""))
            case .absent:
                print("No template database on \(template.server) yet (the first tenant created there makes it).")
            case .failed(let database, let error):
                print("Template \(database) on \(template.server) FAILED, no tenant was migrated: \(error)")
            }
        }
        if !run.tenants.isEmpty {
            printTable(["tenant", "status", "version", "duration", "error"], run.tenants.map { tenant in
                [tenant.slug, tenant.status.rawValue,
                 "\(tenant.fromVersion ?? "empty") → \(tenant.toVersion ?? "-")",
                 tenant.duration?.formattedMilliseconds ?? "-",
                 tenant.error.map { String($0.split(separator: "\n").first ?? "") } ?? ""]
            })
        }
        if run.resumed && run.tenants.isEmpty { print("Nothing to retry: every tenant of the latest run succeeded.") }
        for tenant in run.skipped { print("Skipped \(tenant.slug): \(tenant.status.rawValue) (its creation installs the schema)") }
        let failed = run.failedTenants.count
        print("Run \(run.runID.uuidString.lowercased())\(run.resumed ? " (resumed)" : ""): "
              + "\(run.tenants.count - failed) succeeded, \(failed) failed or not run, \(run.skipped.count) skipped "
              + "in \(run.duration.formattedSeconds).")
        if !run.succeeded { print("Fix the cause, then retry only those with: pgperm migrate --resume") }
    }
}
