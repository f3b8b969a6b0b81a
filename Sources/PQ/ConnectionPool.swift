import Logging
import Synchronization

/// A pool of connections that any number of tasks can share.
///
/// Connections open on demand up to ``Configuration/maximumConnections``. A task that finds
/// every connection busy waits in line, up to ``Configuration/acquireTimeout``, then gets an
/// error of kind `.pool` rather than hanging. A connection returned broken, inside a
/// transaction or still listening (``Connection/listen(_:)``) is closed, never handed to the
/// next task. Leasing takes a lock, not an actor hop: checks through the pool are on the hot
/// path of applications.
public final class ConnectionPool: Sendable {
    public struct Configuration: Sendable {
        /// A URL or `key=value` conninfo, as for ``Connection/connect(_:logger:)``.
        public var conninfo: String
        /// Default 4.
        public var maximumConnections: Int
        /// How long a task may wait for a free connection. Default 30 seconds.
        public var acquireTimeout: Duration

        public init(conninfo: String, maximumConnections: Int = 4, acquireTimeout: Duration = .seconds(30)) {
            self.conninfo = conninfo
            self.maximumConnections = max(1, maximumConnections)
            self.acquireTimeout = acquireTimeout
        }
    }

    public let configuration: Configuration
    private let logger: Logger
    private let state = Mutex(State())

    private struct State: ~Copyable {
        var idle: [Connection] = []
        var openCount = 0
        var waiters: [(id: Int, continuation: CheckedContinuation<Connection, any Error>)] = []
        var nextWaiterID = 0
        var isClosed = false
    }

    public init(_ configuration: Configuration, logger: Logger = .disabled) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Open connections, busy or idle.
    public var connectionCount: Int { state.withLock { $0.openCount } }

    /// Leases a connection for the duration of `body`.
    ///
    /// Unless the caller is isolated to an actor, `body` runs on the connection's own thread,
    /// so its queries need no thread switch: hold one connection for a loop of calls.
    @discardableResult
    public func withConnection<T: Sendable>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (Connection) async throws -> T
    ) async throws -> T {
        let connection = try await lease()
        do {
            let value = try await withTaskExecutorPreference(connection.thread) { try await body(connection) }
            await release(connection)
            return value
        } catch {
            await release(connection)
            throw error
        }
    }

    /// Leases a connection and runs `body` in a transaction on it
    /// (see ``Connection/withTransaction(begin:isolation:_:)``).
    public func withTransaction<T: Sendable>(
        begin: String = "BEGIN",
        isolation: isolated (any Actor)? = #isolation,
        _ body: (Connection) async throws -> T
    ) async throws -> T {
        try await withConnection { connection in
            try await connection.withTransaction(begin: begin, body)
        }
    }

    /// Runs one statement on a leased connection; see ``Connection/query(_:_:prepared:)``.
    @discardableResult
    public func query(_ sql: String, _ binds: [any PostgresEncodable] = [], prepared: Bool = false) async throws -> QueryResult {
        try await withConnection { try await $0.query(sql, binds, prepared: prepared) }
    }

    /// Closes idle connections, fails waiting tasks, and refuses new leases. Leased
    /// connections close when they come back.
    public func close() async {
        let (idle, waiters) = state.withLock { state in
            state.isClosed = true
            defer { state.idle.removeAll(); state.waiters.removeAll() }
            state.openCount -= state.idle.count
            return (state.idle, state.waiters)
        }
        for waiter in waiters { waiter.continuation.resume(throwing: Self.closedError) }
        for connection in idle { await connection.close() }
    }

    // MARK: - Leasing

    private enum Lease { case idle(Connection), open, wait, closed }

    /// A connection to hand out: an idle one the server still holds (one it ended while
    /// idle is replaced, so the request never sees it), else a new one, else a wait.
    private func lease() async throws -> Connection {
        while true {
            let connection = try await leaseAny()
            if connection.isAliveWhileIdle { return connection }
            logger.info("replacing a pooled connection the server closed")
            await connection.close()
            state.withLock { $0.openCount -= 1 }
        }
    }

    private func leaseAny() async throws -> Connection {
        let decision: Lease = state.withLock { state in
            if state.isClosed { return .closed }
            if let connection = state.idle.popLast() { return .idle(connection) }
            guard state.openCount < configuration.maximumConnections else { return .wait }
            state.openCount += 1
            return .open
        }
        switch decision {
        case .idle(let connection): return connection
        case .closed: throw Self.closedError
        case .open: return try await open()
        case .wait: return try await waitForConnection()
        }
    }

    /// Opens a connection for a slot already counted in `openCount`.
    private func open() async throws -> Connection {
        do {
            return try await Connection.connect(configuration.conninfo, logger: logger)
        } catch {
            state.withLock { $0.openCount -= 1 }
            throw error
        }
    }

    private func waitForConnection() async throws -> Connection {
        let id = state.withLock { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        let timeout = configuration.acquireTimeout
        let timer = Task { [weak self] in
            try await Task.sleep(for: timeout)
            self?.expire(id, cancelled: false)
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                // A connection may have come back between the decision to wait and now.
                let ready: Connection? = state.withLock { state in
                    if let connection = state.idle.popLast() { return connection }
                    state.waiters.append((id, continuation))
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            self.expire(id, cancelled: true)
        }
    }

    private func expire(_ id: Int, cancelled: Bool) {
        let waiter = state.withLock { state in
            state.waiters.firstIndex { $0.id == id }.map { state.waiters.remove(at: $0) }
        }
        guard let waiter else { return }
        if cancelled {
            waiter.continuation.resume(throwing: CancellationError())
        } else {
            waiter.continuation.resume(throwing: PostgresError(
                kind: .pool,
                message: "no connection became free within \(configuration.acquireTimeout)",
                detail: "All \(configuration.maximumConnections) connections of the pool are in use.",
                hint: "Raise the pool size, or shorten the work done while holding a connection."))
        }
    }

    private func release(_ connection: Connection) async {
        // A connection still listening would hand its notifications to the previous holder.
        guard connection.isUsable, connection.transactionState == .idle, !connection.isListening else {
            await discard(connection)
            return
        }
        enum Handoff { case waiter(CheckedContinuation<Connection, any Error>), kept, closed }
        let handoff: Handoff = state.withLock { state in
            if state.isClosed {
                state.openCount -= 1
                return .closed
            }
            if state.waiters.isEmpty {
                state.idle.append(connection)
                return .kept
            }
            return .waiter(state.waiters.removeFirst().continuation)
        }
        switch handoff {
        case .waiter(let continuation): continuation.resume(returning: connection)
        case .closed: await connection.close()
        case .kept: break
        }
    }

    /// Closes a broken connection; its slot goes to the first waiting task, if any.
    private func discard(_ connection: Connection) async {
        await connection.close()
        let waiter = state.withLock { state -> CheckedContinuation<Connection, any Error>? in
            guard !state.isClosed, !state.waiters.isEmpty else {
                state.openCount -= 1
                return nil
            }
            return state.waiters.removeFirst().continuation
        }
        guard let waiter else { return }
        do {
            waiter.resume(returning: try await Connection.connect(configuration.conninfo, logger: logger))
        } catch {
            state.withLock { $0.openCount -= 1 }
            waiter.resume(throwing: error)
        }
    }

    private static let closedError = PostgresError(kind: .pool, message: "the connection pool is closed")
}
