import Synchronization

/// The subscribers of one connection's notification channels: which channels are listened
/// to, and where each arriving notification goes.
final class NotificationListeners: Sendable {
    typealias Continuation = AsyncThrowingStream<PostgresNotification, any Error>.Continuation

    /// What one read of the connection found.
    struct Arrival {
        var notifications: [PostgresNotification] = []
        /// Set when the connection broke: every subscriber ends with it.
        var failure: PostgresError?
    }

    private struct State {
        var subscribers: [String: [Int: Continuation]] = [:]
        var nextID = 0
        /// Set once the connection is gone; later subscriptions fail with it.
        var failure: PostgresError?
    }

    private let state = Mutex(State())

    /// Whether anyone listens (checked after every statement, so it must be cheap).
    var isActive: Bool { state.withLock { !$0.subscribers.isEmpty } }

    /// Adds a subscriber; returns its id and whether it is the channel's first.
    func add(_ continuation: Continuation, to channel: String) throws -> (id: Int, isFirst: Bool) {
        try state.withLock { state in
            if let failure = state.failure { throw failure }
            state.nextID += 1
            let isFirst = state.subscribers[channel] == nil
            state.subscribers[channel, default: [:]][state.nextID] = continuation
            return (state.nextID, isFirst)
        }
    }

    /// Removes a subscriber; true when the channel has none left.
    @discardableResult
    func remove(_ id: Int, from channel: String) -> Bool {
        state.withLock { state in
            guard state.subscribers[channel]?.removeValue(forKey: id) != nil else { return false }
            if state.subscribers[channel]!.isEmpty {
                state.subscribers[channel] = nil
                return true
            }
            return false
        }
    }

    /// Whether the channel has subscribers now.
    func isListening(to channel: String) -> Bool {
        state.withLock { $0.subscribers[channel] != nil }
    }

    /// Hands the notifications to their channels' subscribers, then ends every sequence if the
    /// connection broke.
    func deliver(_ arrival: Arrival) {
        if !arrival.notifications.isEmpty {
            let subscribers = state.withLock { $0.subscribers }
            for notification in arrival.notifications {
                for continuation in subscribers[notification.channel]?.values ?? [:].values {
                    continuation.yield(notification)
                }
            }
        }
        if let failure = arrival.failure { finish(throwing: failure) }
    }

    /// Ends every sequence with `error`; later subscriptions fail with it.
    func finish(throwing error: PostgresError) {
        let subscribers = state.withLock { state in
            if state.failure == nil { state.failure = error }
            defer { state.subscribers.removeAll() }
            return state.subscribers.values.flatMap(\.values)
        }
        for continuation in subscribers { continuation.finish(throwing: error) }
    }
}
