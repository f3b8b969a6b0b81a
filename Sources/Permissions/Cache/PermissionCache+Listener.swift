import Foundation
import PQ

extension PermissionCache {
    /// Listens to the schema's change events and keeps the cache current, until the calling
    /// task is cancelled; run it in a task of its own for the life of the service.
    ///
    /// Until it has subscribed, and whenever the listening connection is lost, every check goes
    /// to the database. It reconnects by itself (after ``Configuration/reconnectDelay``,
    /// doubling up to 5 seconds), and trusts its memory again only after it has subscribed
    /// and dropped everything it held, so a change missed while it was away cannot be served.
    /// A heartbeat (``Configuration/heartbeatInterval``) makes a link that died silently count
    /// as lost.
    ///
    /// Returns when the task is cancelled; connection failures are retried, never thrown.
    public func run() async {
        var delay = configuration.reconnectDelay
        while !Task.isCancelled {
            do {
                let conninfo: String
                if let configured = configuration.listenerConninfo { conninfo = configured } else { conninfo = try await listenerConninfo() }
                let connection = try await Connection.connect(conninfo, logger: logger)
                delay = configuration.reconnectDelay
                await listen(on: connection)
                await connection.close()
            } catch {
                logger.info("permission cache: cannot open the listening connection: \(error)")
            }
            distrust()
            guard !Task.isCancelled else { break }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(5))
        }
        distrust()
    }

    /// Subscribes, then trusts the cache and applies events until the connection is lost
    /// (or the heartbeat fails, or the task is cancelled).
    private func listen(on connection: Connection) async {
        defer { distrust() }  // at once, before the connection is even closed
        do {
            let events = try await connection.listen(AccessChange.channel)
            // Subscribed: every commit from now on is delivered. What was held may have missed
            // changes while nobody listened, so it goes, and fills in flight are not kept.
            trust()
            logger.info("permission cache: listening for change events")
            try await withThrowingTaskGroup(of: Void.self) { group in
                // On the listening connection's own thread, which reads the notifications: an
                // event is applied as soon as it arrives, without waiting for a turn on the
                // cooperative pool, however busy the service keeps it.
                group.addTask(executorPreference: connection.taskExecutor) {
                    for try await notification in events {
                        self.apply(AccessChange(payload: notification.payload))
                    }
                }
                group.addTask { try await self.heartbeat(on: connection) }
                try await group.next()
                group.cancelAll()
            }
        } catch is CancellationError {
        } catch {
            logger.info("permission cache: change events lost, checks go to the database until it listens again: \(error)")
        }
    }

    /// Sends a barrier every interval; throws when one does not come back in time. Sent on
    /// the listening connection itself (a session receives its own notifications, through the
    /// server like any other), so the heartbeat does not count as use of the executor: a
    /// tenant's pool left idle is still reclaimed.
    private func heartbeat(on connection: Connection) async throws {
        while true {
            try await Task.sleep(for: configuration.heartbeatInterval)
            try await barrier(timeout: configuration.heartbeatInterval, through: connection)
        }
    }

    /// Waits until every change committed before this call has reached the cache: sends a
    /// marker event through the executor (the pool) and returns when the listener has received
    /// it (events arrive in commit order). Tests and tools use it to compare the cache with the database.
    ///
    /// - Parameter timeout: default 10 seconds.
    /// - Throws: ``PostgresError`` of kind `.connection` when the marker did not arrive in
    ///   time (the cache is not running, or its listener is down); the pool's errors.
    public func barrier(timeout: Duration = .seconds(10)) async throws {
        try await barrier(timeout: timeout, through: executor)
    }

    private func barrier(timeout: Duration, through sender: any QueryExecutor) async throws {
        let token = UUID().uuidString
        let timer = Task {
            try await Task.sleep(for: timeout)
            self.resumeBarrier(token, throwing: PostgresError(
                kind: .connection, message: "the permission cache received no change events for \(timeout)",
                hint: "Run PermissionCache.run() in a task of its own; check the listening connection's server."))
        }
        defer { timer.cancel() }
        try await withCheckedThrowingContinuation { continuation in
            control.withLock { $0.barriers[token] = continuation }
            Task {
                do {
                    try await sender.query("SELECT pg_notify($1, $2)", [AccessChange.channel, AccessChange.barrierPayload(token)],
                                           prepared: false)
                } catch {
                    self.resumeBarrier(token, throwing: error)
                }
            }
        }
    }

    private func resumeBarrier(_ token: String, throwing error: any Error) {
        control.withLock { $0.barriers.removeValue(forKey: token) }?.resume(throwing: error)
    }

    /// Subscribed: drop everything, then answer from memory again. Barriers waiting are
    /// passed: nothing held predates them any more.
    func trust() {
        dropAll(trusted: true)
        let barriers = control.withLock { control in
            control.statistics.subscriptions += 1
            defer { control.barriers.removeAll() }
            return Array(control.barriers.values)
        }
        for barrier in barriers { barrier.resume() }
    }

    /// Not subscribed: every check goes to the database, and nothing is kept.
    private func distrust() {
        dropAll(trusted: false)
    }
}
