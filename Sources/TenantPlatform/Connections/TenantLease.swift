import PQ

/// A connection leased to a task, and the pool it must go back to.
struct TenantLease: Sendable {
    let connection: Connection
    let target: TenantConnectionTarget
    let poolID: UInt64
}

/// A slot under the ceiling reserved for a new connection of a tenant's pool. The task that
/// holds it closes `evicted` (the idle connection whose slot it took), then connects.
struct PendingOpen: Sendable {
    let target: TenantConnectionTarget
    let poolID: UInt64
    let conninfo: Task<String, any Error>
    let evicted: Connection?
}

/// What a task gets from the ledger: an idle connection, or the right to open one.
enum Grant: Sendable {
    case leased(TenantLease)
    case open(PendingOpen)
}

/// A task waiting for a connection of `target`'s tenant.
struct Waiter {
    let id: UInt64
    let target: TenantConnectionTarget
    let continuation: CheckedContinuation<Grant, any Error>
}
