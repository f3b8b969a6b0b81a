import Foundation
import Synchronization
import TenantPlatform

/// The live progress of `pgperm migrate`: one line rewritten in place on a terminal, one
/// line per finished tenant otherwise (logs, CI). Writes go straight to the file descriptor
/// so they stay in order with nothing buffered.
final class MigrationProgressDisplay: Sendable {
    let rewritesLine: Bool
    private let lineShown = Mutex(false)

    init(rewritesLine: Bool) {
        self.rewritesLine = rewritesLine
    }

    func show(_ progress: MigrationProgress) {
        switch progress.event {
        case .templateStarted(let server, let database):
            write("Migrating the template \(database) on \(server) ...\n")
        case .templateFinished(let server, let result):
            write("Template on \(server): \(result.fromVersion ?? "empty") → \(result.toVersion ?? "-") in \(result.duration.formattedMilliseconds)\n")
        case .templateFailed(let server, _, let error):
            write("Template on \(server) failed: \(error)\n")
        case .tenantStarted where rewritesLine:
            rewrite(progress)
        case .tenantStarted:
            break
        case .tenantFinished(let result) where rewritesLine:
            // A failure gets its own line above the counter, so it is seen while the run goes on.
            if result.status == .failed { write("\r\u{1B}[K" + line(result, progress) + "\n") }
            rewrite(progress)
        case .tenantFinished(let result):
            write(line(result, progress) + "\n")
        }
    }

    private func line(_ result: TenantMigrationResult, _ progress: MigrationProgress) -> String {
        let outcome = result.status == .succeeded
            ? "\(result.fromVersion ?? "empty") → \(result.toVersion ?? "-")"
            : "FAILED: \(result.error?.split(separator: "\n").first ?? "")"
        return "[\(progress.done)/\(progress.total)] \(result.slug) \(outcome) (\(result.duration?.formattedMilliseconds ?? "-"))"
    }

    /// Ends the rewritten line so what follows starts on its own.
    func finish() {
        if lineShown.withLock({ $0 }) { write("\n") }
    }

    private func rewrite(_ progress: MigrationProgress) {
        lineShown.withLock { $0 = true }
        write("\r\u{1B}[K\(progress.done)/\(progress.total) done, \(progress.failed) failed, "
              + "\(progress.remaining) remaining (\(progress.running) running)")
    }

    private func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
