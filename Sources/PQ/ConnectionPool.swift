import Logging

/// A fixed-size pool of connections that any number of tasks can share.
///
/// Connections open on demand up to ``Configuration/maximumConnections``. A task that finds
/// every connection busy waits in line, up to ``Configuration/acquireTimeout``, then gets an
/// error of kind `.pool` rather than hanging. A connection returned broken or inside a
/// transaction is closed, never handed to the next task.
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
    private let state: PoolState

    public init(_ configuration: Configuration, logger: Logger = .disabled) {
        self.configuration = configuration
        self.state = PoolState(configuration: configuration, logger: logger)
    }

    /// Open connections, busy or idle.
    public var connectionCount: Int { get async { await state.openCount } }

    /// Leases a connection for the duration of `body`.
    @discardableResult
    public func withConnection<T: Sendable>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (Connection) async throws -> T
    ) async throws -> T {
        let connection = try await state.lease()
        do {
            let value = try await body(connection)
            await state.release(connection)
            return value
        } catch {
            await state.release(connection)
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
        await state.close()
    }
}

/// The pool's bookkeeping: idle connections, the count, and the tasks waiting in line.
private actor PoolState {
    let configuration: ConnectionPool.Configuration
    private let logger: Logger
    private var idle: [Connection] = []
    private(set) var openCount = 0
    private var waiters: [(id: Int, continuation: CheckedContinuation<Connection, any Error>)] = []
    private var nextWaiterID = 0
    private var isClosed = false

    init(configuration: ConnectionPool.Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    func close() async {
        isClosed = true
        for waiter in waiters {
            waiter.continuation.resume(throwing: Self.closedError)
        }
        waiters.removeAll()
        let connections = idle
        idle.removeAll()
        openCount -= connections.count
        for connection in connections { await connection.close() }
    }

    // MARK: - Leasing

    func lease() async throws -> Connection {
        guard !isClosed else { throw Self.closedError }
        if let connection = idle.popLast() { return connection }
        if openCount < configuration.maximumConnections {
            openCount += 1
            do {
                return try await Connection.connect(configuration.conninfo, logger: logger)
            } catch {
                openCount -= 1
                throw error
            }
        }
        return try await waitForConnection()
    }

    private func waitForConnection() async throws -> Connection {
        nextWaiterID += 1
        let id = nextWaiterID
        let timeout = configuration.acquireTimeout
        let timer = Task { [weak self] in
            try await Task.sleep(for: timeout)
            await self?.expire(id)
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                waiters.append((id, continuation))
            }
        } onCancel: {
            Task { await self.expire(id, cancelled: true) }
        }
    }

    private func expire(_ id: Int, cancelled: Bool = false) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        let waiter = waiters.remove(at: index)
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

    func release(_ connection: Connection) async {
        guard !isClosed, connection.isUsable, connection.transactionState == .idle else {
            openCount -= 1
            await connection.close()
            if !isClosed { await refillForWaiter() }
            return
        }
        if waiters.isEmpty {
            idle.append(connection)
        } else {
            waiters.removeFirst().continuation.resume(returning: connection)
        }
    }

    /// A discarded connection frees a slot: open a new one for the first waiting task.
    private func refillForWaiter() async {
        guard !waiters.isEmpty, openCount < configuration.maximumConnections else { return }
        openCount += 1
        do {
            let connection = try await Connection.connect(configuration.conninfo, logger: logger)
            if waiters.isEmpty {
                idle.append(connection)
            } else {
                waiters.removeFirst().continuation.resume(returning: connection)
            }
        } catch {
            openCount -= 1
            if !waiters.isEmpty { waiters.removeFirst().continuation.resume(throwing: error) }
        }
    }

    private static let closedError = PostgresError(kind: .pool, message: "the connection pool is closed")
}
