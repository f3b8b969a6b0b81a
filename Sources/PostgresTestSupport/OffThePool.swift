import Dispatch

/// Runs blocking work (a child process waited for) on a Dispatch thread and awaits it.
/// Waiting on the cooperative pool instead holds one of its few threads (two on a 2-core
/// machine) for the whole command, and stalls every other test of the parallel run meanwhile:
/// in CI, timeouts and reconnections then ran over 90 s late.
public func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            do {
                continuation.resume(returning: try work())
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }
}
