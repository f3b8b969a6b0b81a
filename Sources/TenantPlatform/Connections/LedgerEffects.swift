import PQ

/// Work the manager does after a ledger decision, outside the lock.
struct LedgerEffects: Sendable {
    /// Connections already removed from the counts, to close first (so the server sees the
    /// slot free before anyone opens a connection in it).
    var closing: [Connection] = []
    /// Waiting tasks served by the decision.
    var grants: [(CheckedContinuation<Grant, any Error>, Grant)] = []
    /// Waiting tasks that must give up.
    var failures: [(CheckedContinuation<Grant, any Error>, any Error)] = []
    /// Pools closed by the decision (their ids): their permission caches stop listening.
    var closedPools: [UInt64] = []
}
