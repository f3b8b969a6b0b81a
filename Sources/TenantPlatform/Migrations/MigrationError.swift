/// Why a migration run could not start; per-tenant failures are results, not errors.
public struct MigrationError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Kind: Sendable, Equatable { case alreadyRunning, nothingToResume }

    public let kind: Kind
    public let message: String
    public let hint: String?

    public var description: String { hint.map { "\(message)\nHint: \($0)" } ?? message }

    static let alreadyRunning = MigrationError(
        kind: .alreadyRunning, message: "another `pgperm migrate` is running against this master database",
        hint: "Wait for it to finish; `pgperm migrate --resume` then retries what it left failed.")
    static let nothingToResume = MigrationError(
        kind: .nothingToResume, message: "there is no migration run to resume",
        hint: "Start one with `pgperm migrate --all-tenants`.")
}
