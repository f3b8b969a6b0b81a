/// Runs one task per tenant, at most `jobs` at once: a new one starts as soon as one
/// finishes, so a slow tenant never holds up a whole batch.
struct SlidingWindow {
    let jobs: Int
    let total: Int
    let progress: @Sendable (MigrationProgress) -> Void

    /// Progress is reported from this loop only, so the counts need no lock.
    func run(
        _ tenants: [TenantHandle], _ migrate: @escaping @Sendable (TenantHandle) async -> TenantMigrationResult
    ) async -> [TenantMigrationResult] {
        await withTaskGroup(of: TenantMigrationResult.self) { group in
            var queue = tenants[...]
            var results: [TenantMigrationResult] = []
            var running = 0
            func report(_ event: MigrationProgress.Event) {
                let failed = results.filter { $0.status == .failed }.count
                progress(MigrationProgress(event: event, total: total, succeeded: results.count - failed, failed: failed,
                                           running: running))
            }
            func startNext() {
                guard let tenant = queue.popFirst() else { return }
                running += 1
                report(.tenantStarted(slug: tenant.slug))
                group.addTask { await migrate(tenant) }
            }
            for _ in 0..<jobs { startNext() }
            for await result in group {
                running -= 1
                results.append(result)
                report(.tenantFinished(result))
                startNext()
            }
            return results
        }
    }
}
