import CLibPQ

extension Connection {
    /// Listens to `channel` (`LISTEN`) and returns its notifications as they arrive.
    ///
    /// When this returns, the server has registered the listener: every notification of a
    /// transaction that commits from then on is delivered, in commit order. The connection's
    /// own thread waits on its socket while it has nothing else to do, so a notification is
    /// handed out as soon as it arrives, without polling. Several sequences may listen to the
    /// same or to different channels of one connection; the connection can still run queries
    /// meanwhile. Use a connection of its own for listening rather than a pooled one (a pool
    /// closes a connection that comes back listening).
    ///
    /// ```swift
    /// let listener = try await Connection.connect(url)
    /// for try await notification in try await listener.listen("jobs") {
    ///     print(notification.payload)
    /// }
    /// ```
    ///
    /// - Parameter channel: the channel name, as given to `NOTIFY` (case-sensitive here: it
    ///   is quoted, as `pg_notify` takes it).
    /// - Returns: a sequence that ends with a ``PostgresError`` when the connection is lost
    ///   (kind `.connection`) or closed (kind `.usage`), since notifications may then have
    ///   been missed. Ending the iteration stops listening (`UNLISTEN` once no sequence of the
    ///   channel is left).
    /// - Throws: ``PostgresError``: `.usage` (22021) for a NUL in the name; the server's error
    ///   for `LISTEN` (42601 for an empty name; a name longer than 63 bytes is truncated, as in
    ///   psql); `.connection` if the link broke.
    public func listen(_ channel: String) async throws -> PostgresNotificationSequence {
        try Self.refuseNUL(in: channel, what: "the channel name")
        let (stream, continuation) = AsyncThrowingStream<PostgresNotification, any Error>.makeStream()
        // Registered on the connection's thread, serialized with every other statement, so a
        // notification read by a statement right after LISTEN already finds its subscriber.
        let id = try await run { [listeners] handle in
            let (id, isFirst) = try listeners.add(continuation, to: channel)
            if isFirst {
                do {
                    try Self.command("LISTEN \(quoteIdentifier(channel))", handle)
                } catch {
                    listeners.remove(id, from: channel)
                    throw error
                }
            }
            return id
        }
        let socket = self.socket
        if socket >= 0 {
            thread.watch(socket: socket) { [weak self] in self?.readNotifications() }
        }
        continuation.onTermination = { [weak self] _ in
            guard let self, self.listeners.remove(id, from: channel) else { return }
            Task { try? await self.unlisten(channel) }
        }
        return PostgresNotificationSequence(stream: stream)
    }

    /// Whether any notification sequence of this connection is still running.
    public var isListening: Bool { listeners.isActive }

    /// `UNLISTEN` when no new subscriber took the channel meanwhile (checked on the thread).
    private func unlisten(_ channel: String) async throws {
        try await run { [listeners] handle in
            guard !listeners.isListening(to: channel) else { return }
            try Self.command("UNLISTEN \(quoteIdentifier(channel))", handle)
        }
        if !listeners.isActive { thread.unwatch() }
    }
}
