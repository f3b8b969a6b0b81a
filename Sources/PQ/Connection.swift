import CLibPQ
import Foundation
import Logging

/// One PostgreSQL connection over libpq.
///
/// Every blocking libpq call runs on the connection's own thread (``ConnectionThread``), never
/// on Swift's cooperative thread pool, so a slow query does not starve other tasks; a task
/// already running on that thread (inside ``ConnectionPool/withConnection(isolation:_:)``)
/// queries inline, without a thread switch. Calls are serialised: use one connection from one
/// task at a time, or share a ``ConnectionPool``. Cancelling the calling task sends a cancel
/// request to the server.
public final class Connection: @unchecked Sendable {
    private let handle: OpaquePointer
    /// libpq's cancel request for this connection, made once; usable from any thread.
    private let cancelRequest: OpaquePointer?
    /// The thread of this connection's blocking calls, and an executor tasks may prefer.
    let thread: ConnectionThread
    /// Guards every use of `handle`: libpq connections are not thread-safe.
    private let access = NSLock()
    private let notices: NoticeSink
    private var isClosed = false
    /// Statements prepared on this connection, by SQL text. Touched only under `access`.
    private var preparedNames: [String: String] = [:]
    /// The channels this connection listens to and their subscribers (``listen(_:)``).
    let listeners = NotificationListeners()
    /// Run once the current transaction ends (``afterTransaction(_:)``). Touched only under `access`.
    private var transactionEndHandlers: [@Sendable () -> Void] = []
    public let logger: Logger

    private init(handle: OpaquePointer, thread: ConnectionThread, logger: Logger) {
        self.handle = handle
        self.cancelRequest = PQgetCancel(handle)
        self.thread = thread
        self.logger = logger
        self.notices = NoticeSink(logger: logger)
        PQsetNoticeReceiver(handle, { context, result in
            guard let context, let result else { return }
            let sink = Unmanaged<NoticeSink>.fromOpaque(context).takeUnretainedValue()
            sink.receive(String(cString: PQresultErrorMessage(result)))
        }, Unmanaged.passUnretained(notices).toOpaque())
    }

    deinit {
        listeners.finish(throwing: Self.closedError)
        if !isClosed { PQfinish(handle) }
        thread.stop()
        if let cancelRequest { PQfreeCancel(cancelRequest) }
    }

    /// Opens a connection.
    ///
    /// - Parameters:
    ///   - conninfo: anything libpq accepts: a URL (`postgresql://user@host:5432/db?sslmode=require`)
    ///     or `key=value` pairs (`host=/tmp port=5432 dbname=app`). Empty uses libpq's
    ///     defaults and environment (`PGHOST`, `PGDATABASE`, `.pgpass`, service files).
    ///   - logger: receives server notices at debug level.
    /// - Throws: ``PostgresError`` of kind `.connection` carrying libpq's own message.
    public static func connect(_ conninfo: String, logger: Logger = .disabled) async throws -> Connection {
        try refuseNUL(in: conninfo, what: "the connection string")
        let thread = ConnectionThread(name: "pgperm.pq.connection")
        let handle: OpaquePointer
        do {
            handle = try await withTaskExecutorPreference(thread) { try open(conninfo) }
        } catch {
            thread.stop()
            throw error
        }
        return Connection(handle: handle, thread: thread, logger: logger)
    }

    /// Runs on the connection's thread: libpq's blocking connect.
    private static func open(_ conninfo: String) throws -> OpaquePointer {
        guard let handle = PQconnectdb(conninfo) else {
            throw PostgresError(kind: .connection, code: "08001", message: "out of memory")
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(handle)).trimmingCharacters(in: .whitespacesAndNewlines)
            PQfinish(handle)
            throw PostgresError(kind: .connection, code: "08001", message: message)
        }
        return handle
    }

    // MARK: - Queries

    /// Runs one statement with parameters bound as `$1`, `$2`, ... (never interpolated).
    ///
    /// - Parameters:
    ///   - sql: a single SQL statement.
    ///   - binds: parameter values; use `Optional.none` or ``PostgresNull`` for NULL.
    ///   - prepared: prepare the statement once on this connection and reuse it by name on
    ///     later calls with the same text (saves parsing and planning). Use it for fixed
    ///     statements run often; avoid it for `SELECT *` over tables whose columns change.
    ///     Default `false`.
    /// - Returns: all rows, decoded lazily with ``Row/decode(_:at:)``.
    /// - Throws: ``PostgresError``: `.server` with the SQLSTATE, `.connection` if the link broke.
    @discardableResult
    public func query(_ sql: String, _ binds: [any PostgresEncodable] = [], prepared: Bool = false) async throws -> QueryResult {
        let texts = binds.map(\.postgresText)
        try Self.refuseNUL(in: sql, what: "the statement text")
        for (index, text) in texts.enumerated() {
            if let text { try Self.refuseNUL(in: text, what: "parameter $\(index + 1)") }
        }
        return try await run { handle in
            let values = texts.map { $0.flatMap { UnsafePointer(strdup($0)) } }
            defer { values.forEach { free(UnsafeMutablePointer(mutating: $0)) } }
            return try values.withUnsafeBufferPointer { buffer in
                guard prepared else {
                    return try Self.consume(PQexecParams(handle, sql, Int32(values.count), nil, buffer.baseAddress, nil, nil, 0),
                                            handle: handle)
                }
                do {
                    return try self.executePrepared(sql, values: buffer, handle: handle)
                } catch let error as PostgresError where error.code == SQLState("26000") {
                    // The server forgot the statement (DISCARD ALL, a pooler): prepare it again.
                    self.preparedNames[sql] = nil
                    return try self.executePrepared(sql, values: buffer, handle: handle)
                }
            }
        }
    }

    /// libpq takes C strings, which end at the first NUL byte: a value holding one would
    /// reach the server cut short ("pw\0junk" checked as "pw"). PostgreSQL text cannot hold
    /// NUL anyway, so such a value is refused before anything is sent, with the SQLSTATE the
    /// server uses for it (22021).
    static func refuseNUL(in text: String, what: String) throws {
        guard text.utf8.contains(0) else { return }
        throw PostgresError(kind: .usage, code: .characterNotInRepertoire,
                            message: "\(what) contains a NUL character (U+0000), which PostgreSQL text cannot hold",
                            hint: "Remove the NUL character; nothing was sent to the server.")
    }

    /// Runs on the connection's thread: prepares `sql` on first use, then executes it by name.
    private func executePrepared(_ sql: String, values: UnsafeBufferPointer<UnsafePointer<CChar>?>,
                                 handle: OpaquePointer) throws -> QueryResult {
        let name: String
        if let known = preparedNames[sql] {
            name = known
        } else {
            name = "pgperm_\(preparedNames.count + 1)"
            _ = try Self.consume(PQprepare(handle, name, sql, Int32(values.count), nil), handle: handle)
            preparedNames[sql] = name
        }
        return try Self.consume(PQexecPrepared(handle, name, Int32(values.count), values.baseAddress, nil, nil, 0),
                                handle: handle)
    }

    /// Runs a script of several statements separated by `;` with the simple query protocol
    /// (as psql does), stopping at the first error. No parameters.
    ///
    /// - Throws: ``PostgresError`` whose ``PostgresError/statementIndex`` is the 0-based index of
    ///   the failing statement among the non-empty statements of `script`.
    public func execute(script: String) async throws {
        try Self.refuseNUL(in: script, what: "the script")
        try await run { handle in
            guard PQsendQuery(handle, script) == 1 else {
                throw Self.connectionError(handle)
            }
            var failure: PostgresError?
            var index = 0
            while let result = PQgetResult(handle) {
                if failure == nil {
                    do {
                        _ = try Self.consume(result, handle: handle)
                        index += 1
                    } catch var error as PostgresError {
                        error.statementIndex = index
                        failure = error
                    }
                } else {
                    PQclear(result)
                }
            }
            if let failure { throw failure }
        }
    }

    // MARK: - State

    /// Whether the connection is open and healthy.
    public var isUsable: Bool {
        access.withLock { !isClosed && PQstatus(handle) == CONNECTION_OK }
    }

    /// Whether the server still holds this idle connection, found without a round trip.
    /// Pools ask it before handing out an idle connection, so it costs one `poll` with no
    /// wait when nothing arrived; only when something did (a termination notice and end of
    /// file, after a server restart or `pg_terminate_backend`) does libpq read it. Its
    /// sockets are non-blocking, so nothing here waits; the second read sees the end of file
    /// that follows a notice.
    public var isAliveWhileIdle: Bool {
        access.withLock {
            guard !isClosed, PQstatus(handle) == CONNECTION_OK else { return false }
            var socket = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
            guard poll(&socket, 1, 0) > 0 else { return true }
            for _ in 0..<2 where PQconsumeInput(handle) == 0 { return false }
            return PQstatus(handle) == CONNECTION_OK
        }
    }

    /// Where the connection stands with respect to transactions.
    public enum TransactionState: Sendable { case idle, inTransaction, failed, unknown }

    public var transactionState: TransactionState {
        access.withLock {
            switch PQtransactionStatus(handle) {
            case PQTRANS_IDLE: .idle
            case PQTRANS_INTRANS: .inTransaction
            case PQTRANS_INERROR: .failed
            default: .unknown
            }
        }
    }

    /// The server's version number, such as `150018`.
    public var serverVersion: Int { access.withLock { Int(PQserverVersion(handle)) } }

    /// The password as a SCRAM-SHA-256 verifier, computed here by libpq: put it in
    /// `CREATE ROLE ... PASSWORD` and the server, its logs and `pg_stat_activity` never see
    /// the password itself (what psql's `\password` does).
    public func encryptPassword(_ password: String, user: String) async throws -> String {
        try Self.refuseNUL(in: password, what: "the password")
        try Self.refuseNUL(in: user, what: "the user name")
        return try await run { handle in
            guard let verifier = PQencryptPasswordConn(handle, password, user, "scram-sha-256") else {
                throw Self.connectionError(handle)
            }
            defer { PQfreemem(verifier) }
            return String(cString: verifier)
        }
    }

    /// Closes the connection. Further calls throw; notification sequences end with an error.
    public func close() async {
        let transactionEnded: [@Sendable () -> Void] = access.withLock {
            if !isClosed {
                isClosed = true
                PQfinish(handle)
            }
            defer { transactionEndHandlers.removeAll() }
            return transactionEndHandlers
        }
        for handler in transactionEnded { handler() }
        thread.unwatch()
        listeners.finish(throwing: Self.closedError)
        thread.stop()
    }

    static let closedError = PostgresError(kind: .usage, message: "the connection is closed")

    // MARK: - Plumbing

    /// Runs `body` on the connection's thread (inline when the task is already there); a
    /// cancelled task sends PQcancel to the server.
    func run<T: Sendable>(_ body: @escaping @Sendable (OpaquePointer) throws -> T) async throws -> T {
        let cancel = CancelToken(cancelRequest)
        return try await withTaskCancellationHandler {
            if thread.isCurrent { return try exclusive(body, cancel) }
            return try await withTaskExecutorPreference(thread) { try self.exclusive(body, cancel) }
        } onCancel: {
            cancel.fire()
        }
    }

    private func exclusive<T>(_ body: (OpaquePointer) throws -> T, _ cancel: CancelToken) throws -> T {
        var arrived: NotificationListeners.Arrival?
        var transactionEnded: [@Sendable () -> Void] = []
        defer {  // outside the lock
            if let arrived { hand(arrived) }
            for handler in transactionEnded { handler() }
        }
        return try access.withLock {
            guard !isClosed else { throw Self.closedError }
            guard cancel.arm() else { throw CancellationError() }  // cancelled before it was sent
            defer {
                cancel.disarm()
                // A statement reads whatever arrived before its result, notifications included.
                if listeners.isActive { arrived = Self.takeNotifications(handle, consume: false) }
                if !transactionEndHandlers.isEmpty && PQtransactionStatus(handle) != PQTRANS_INTRANS
                    && PQtransactionStatus(handle) != PQTRANS_INERROR {
                    swap(&transactionEnded, &transactionEndHandlers)
                }
            }
            return try body(handle)
        }
    }

    /// Runs `handler` once the transaction open on this connection ends, by COMMIT or
    /// ROLLBACK, however it was sent (``withTransaction(begin:isolation:_:)`` or a plain
    /// statement), or when the connection closes or breaks; at once when no transaction is
    /// open. It runs after the statement that ended the transaction has returned, so what the
    /// transaction committed is visible to every other connection by then. Keep it short: it
    /// runs on the connection's thread.
    public func afterTransaction(_ handler: @escaping @Sendable () -> Void) {
        let deferred: Bool = access.withLock {
            let status = isClosed ? PQTRANS_UNKNOWN : PQtransactionStatus(handle)
            guard status == PQTRANS_INTRANS || status == PQTRANS_INERROR else { return false }
            transactionEndHandlers.append(handler)
            return true
        }
        if !deferred { handler() }
    }

    /// The process id of the server backend of this connection (`pg_backend_pid()`), known
    /// without a round trip; a notification this connection's transactions send carries it.
    public var backendProcessID: Int { access.withLock { isClosed ? 0 : Int(PQbackendPID(handle)) } }

    /// Runs on the connection's thread when its socket is readable while it listens: reads
    /// what arrived and hands the notifications out; a lost connection ends every sequence.
    func readNotifications() {
        let arrived: NotificationListeners.Arrival? = access.withLock {
            guard !isClosed else { return nil }
            return Self.takeNotifications(handle, consume: true)
        }
        if let arrived { hand(arrived) }
    }

    private func hand(_ arrival: NotificationListeners.Arrival) {
        if arrival.failure != nil { thread.unwatch() }  // its socket stays readable: stop waiting on it
        listeners.deliver(arrival)
    }

    /// The notifications libpq has read (after reading the socket when `consume`), or the
    /// failure of a connection that broke. Called under `access`.
    private static func takeNotifications(_ handle: OpaquePointer, consume: Bool) -> NotificationListeners.Arrival {
        var arrival = NotificationListeners.Arrival()
        if consume && PQconsumeInput(handle) == 0 || PQstatus(handle) != CONNECTION_OK {
            arrival.failure = connectionError(handle)
        }
        while let notify = PQnotifies(handle) {
            let fields = notify.pointee
            arrival.notifications.append(PostgresNotification(
                channel: String(cString: fields.relname), payload: String(cString: fields.extra),
                processID: Int(fields.be_pid)))
            PQfreemem(notify)
        }
        return arrival
    }

    /// The connection's socket, for the thread to wait on.
    var socket: Int32 { access.withLock { isClosed ? -1 : PQsocket(handle) } }

    /// Runs a statement without parameters on the connection's thread (LISTEN, UNLISTEN).
    static func command(_ sql: String, _ handle: OpaquePointer) throws {
        _ = try consume(PQexec(handle, sql), handle: handle)
    }

    private static func consume(_ result: OpaquePointer?, handle: OpaquePointer) throws -> QueryResult {
        guard let result else { throw connectionError(handle) }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return decodeRows(result)
        default:
            if PQstatus(handle) != CONNECTION_OK { throw connectionError(handle) }
            throw serverError(result)
        }
    }

    private static func decodeRows(_ result: OpaquePointer) -> QueryResult {
        let columnCount = Int(PQnfields(result))
        let columns = (0..<columnCount).map { index in
            Column(name: String(cString: PQfname(result, Int32(index))),
                   type: PostgresType(oid: PQftype(result, Int32(index))))
        }
        let rows = (0..<Int(PQntuples(result))).map { row in
            Row(columns: columns, values: (0..<columnCount).map { column -> String? in
                PQgetisnull(result, Int32(row), Int32(column)) == 1
                    ? nil : String(cString: PQgetvalue(result, Int32(row), Int32(column)))
            })
        }
        let tag = String(cString: PQcmdStatus(result))
        return QueryResult(columns: columns, rows: rows, commandTag: tag,
                           affectedRows: Int(String(cString: PQcmdTuples(result))))
    }

    private static func serverError(_ result: OpaquePointer) -> PostgresError {
        func field(_ code: Character) -> String? {
            guard let value = PQresultErrorField(result, Int32(code.asciiValue!)) else { return nil }
            return String(cString: value)
        }
        var error = PostgresError(kind: .server,
                                  code: field("C").map { SQLState($0) },
                                  message: field("M") ?? String(cString: PQresultErrorMessage(result)),
                                  detail: field("D"),
                                  hint: field("H"))
        error.severity = field("V") ?? field("S")
        error.context = field("W")
        error.position = field("P").flatMap { Int($0) }
        error.schemaName = field("s")
        error.tableName = field("t")
        error.columnName = field("c")
        error.constraintName = field("n")
        return error
    }

    private static func connectionError(_ handle: OpaquePointer) -> PostgresError {
        let message = String(cString: PQerrorMessage(handle)).trimmingCharacters(in: .whitespacesAndNewlines)
        return PostgresError(kind: .connection, code: "08006", message: message.isEmpty ? "connection lost" : message)
    }
}

/// Receives server notices (RAISE NOTICE, "already exists, skipping") instead of libpq
/// printing them to stderr.
private final class NoticeSink: @unchecked Sendable {
    let logger: Logger
    init(logger: Logger) { self.logger = logger }
    func receive(_ message: String) {
        logger.debug("\(message.trimmingCharacters(in: .whitespacesAndNewlines))")
    }
}

/// Cancels the statement of one call if its task is cancelled while it runs.
///
/// A cancel request that reaches the server just before the statement does is ignored, so
/// the request is repeated until the statement ends.
private final class CancelToken: @unchecked Sendable {
    private let lock = NSLock()
    private let request: OpaquePointer?
    private var running = false
    private var fired = false

    init(_ request: OpaquePointer?) { self.request = request }

    /// Marks the statement as about to run; `false` when the task is already cancelled.
    func arm() -> Bool {
        lock.withLock {
            running = !fired
            return running
        }
    }

    func disarm() {
        lock.withLock { running = false }
    }

    func fire() {
        lock.withLock { fired = true }
        sendWhileRunning()
    }

    private func sendWhileRunning() {
        let stillRunning = lock.withLock { running }
        guard stillRunning, let request else { return }
        var buffer = [CChar](repeating: 0, count: 256)
        _ = PQcancel(request, &buffer, Int32(buffer.count))
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(200)) { self.sendWhileRunning() }
    }
}
