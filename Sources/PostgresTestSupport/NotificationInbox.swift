import PQ
import Synchronization

/// Collects a sequence's notifications from a task of its own, so a test can wait for the
/// next one with a timeout without ending the sequence.
public final class NotificationInbox: Sendable {
    private struct State {
        var received: [PostgresNotification] = []
        var taken = 0
        var failure: (any Error)?
    }
    private final class Box: Sendable { let state = Mutex(State()) }
    private let box = Box()
    private let task: Task<Void, Never>

    public init(_ sequence: PostgresNotificationSequence) {
        let box = self.box
        task = Task {
            do {
                for try await notification in sequence { box.state.withLock { $0.received.append(notification) } }
            } catch {
                box.state.withLock { $0.failure = error }
            }
        }
    }

    deinit { task.cancel() }

    /// The next notification; `nil` if none arrives within `timeout`; the sequence's error once
    /// everything before it was taken.
    public func next(within timeout: Duration = .seconds(10)) async throws -> PostgresNotification? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let (notification, failure): (PostgresNotification?, (any Error)?) = box.state.withLock { state in
                guard state.taken < state.received.count else { return (nil, state.failure) }
                state.taken += 1
                return (state.received[state.taken - 1], nil)
            }
            if let notification { return notification }
            if let failure { throw failure }
            try await Task.sleep(for: .milliseconds(2))
        }
        return nil
    }
}
