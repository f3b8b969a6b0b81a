import Foundation

/// Signed-in sessions, held in memory: a restart signs everyone out, which is the safe
/// default for an admin tool. A session is named by a random 256-bit token (the cookie's
/// value) and ends after an idle timeout, on sign-out, or when the server closes it.
actor SessionStore<Subject: Sendable & Equatable> {
    private struct Session {
        let subject: Subject
        var lastSeen: ContinuousClock.Instant
    }

    private let idleTimeout: Duration
    private var sessions: [String: Session] = [:]
    private var lastSweep = ContinuousClock.now

    init(idleTimeout: Duration) {
        self.idleTimeout = idleTimeout
    }

    /// Opens a session and returns its token.
    func open(_ subject: Subject) -> String {
        sweepIfDue()
        let token = Self.newToken()
        sessions[token] = Session(subject: subject, lastSeen: .now)
        return token
    }

    /// Who the token belongs to, if its session is open; each use restarts the idle timeout.
    func subject(for token: String) -> Subject? {
        let now = ContinuousClock.now
        guard var session = sessions[token] else { return nil }
        guard now - session.lastSeen < idleTimeout else {
            sessions[token] = nil
            return nil
        }
        session.lastSeen = now
        sessions[token] = session
        return session.subject
    }

    func close(_ token: String) {
        sessions[token] = nil
    }

    /// Ends every session of the subjects that match, e.g. all of a deleted admin's.
    func close(where matches: (Subject) -> Bool) {
        sessions = sessions.filter { !matches($0.value.subject) }
    }

    /// Drops expired sessions now and then, so abandoned ones do not accumulate.
    private func sweepIfDue() {
        let now = ContinuousClock.now
        guard now - lastSweep > .seconds(60) else { return }
        lastSweep = now
        sessions = sessions.filter { now - $0.value.lastSeen < idleTimeout }
    }

    /// 32 bytes from the system's CSPRNG, base64url without padding (cookie-safe).
    private static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
