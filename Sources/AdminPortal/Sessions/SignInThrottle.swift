import Hummingbird

/// Slows password guessing at the admin sign-in: after `limit` failures for one email
/// within `window`, that email is refused (429) until the window has passed, whatever the
/// password. A success clears the count. Kept in memory, per process.
actor SignInThrottle {
    private let limit: Int
    private let window: Duration
    private var failures: [String: [ContinuousClock.Instant]] = [:]

    init(limit: Int = 10, window: Duration = .seconds(15 * 60)) {
        self.limit = limit
        self.window = window
    }

    /// Throws when `key` has used up its attempts.
    func admit(_ key: String) throws {
        let recent = recentFailures(key)
        guard recent.count >= limit, let oldest = recent.first else { return }
        let wait = window - (ContinuousClock.now - oldest)
        throw APIError(status: .tooManyRequests, code: "too_many_attempts",
                       message: "too many failed sign-ins for this account",
                       hint: "Try again in \(Int(wait.components.seconds) / 60 + 1) minutes.")
    }

    func recordFailure(_ key: String) {
        failures[key] = recentFailures(key) + [.now]
        if failures.count > 10_000 {  // guesses at many made-up emails must not grow memory without end
            failures = failures.filter { !recentFailures($0.key).isEmpty }
        }
    }

    func recordSuccess(_ key: String) {
        failures[key] = nil
    }

    private func recentFailures(_ key: String) -> [ContinuousClock.Instant] {
        let now = ContinuousClock.now
        return (failures[key] ?? []).filter { now - $0 < window }
    }
}
