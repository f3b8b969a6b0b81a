/// A notification sent with `NOTIFY channel, 'payload'` or `pg_notify(channel, payload)`,
/// delivered when the sending transaction commits.
public struct PostgresNotification: Sendable, Hashable {
    public let channel: String
    public let payload: String
    /// The process id of the server backend that sent it (`pg_backend_pid()` there).
    public let processID: Int

    public init(channel: String, payload: String, processID: Int) {
        self.channel = channel
        self.payload = payload
        self.processID = processID
    }
}

/// The notifications of one channel, in the order the server sent them, from
/// ``Connection/listen(_:)``.
///
/// It ends with a ``PostgresError`` when the connection is lost (kind `.connection`) or
/// closed (kind `.usage`): notifications sent meanwhile may be missed, so a consumer that
/// keeps state in step with them must start over. It never ends otherwise. Stop listening by
/// ending the iteration (or cancelling the iterating task): the last subscriber of a channel
/// sends `UNLISTEN`.
public struct PostgresNotificationSequence: AsyncSequence, Sendable {
    public typealias Element = PostgresNotification
    let stream: AsyncThrowingStream<PostgresNotification, any Error>

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<PostgresNotification, any Error>.AsyncIterator
        public mutating func next() async throws -> PostgresNotification? { try await base.next() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: stream.makeAsyncIterator()) }
}
