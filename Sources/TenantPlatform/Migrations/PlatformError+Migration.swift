/// Why a migration run could not start; per-tenant failures are results, not errors.
extension PlatformError {
    static let migrationRunning = PlatformError(
        .migrationRunning, "another `pgperm migrate` is running against this master database",
        hint: "Wait for it to finish; `pgperm migrate --resume` then retries what it left failed.")
    static let noMigrationToResume = PlatformError(
        .noMigrationToResume, "there is no migration run to resume",
        hint: "Start one with `pgperm migrate --all-tenants`.")
}
