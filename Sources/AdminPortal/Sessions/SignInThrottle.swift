import Hummingbird
import PQ

/// Slows password guessing, in the master database (`platform.sign_in_attempt`), so every
/// `pgperm serve` process counts the same attempts.
///
/// - An attempt is recorded *before* the password is checked, under a lock on the account,
///   so parallel guesses cannot all pass the count while the slow hash runs; a success
///   deletes that client's attempts again.
/// - The limit is per account and client address (`perClient` in `window`), so a stranger
///   cannot lock a user out from elsewhere; a global backstop (`perAccount` across all
///   clients) still stops a guesser spread over many addresses.
/// - The account key is built from the exact value the database compares, in SQL, with the
///   database's own `lower()`: no spelling of an email that reaches the same account counts
///   separately. Callers limit field lengths before anything is stored.
struct SignInThrottle: Sendable {
    let master: ConnectionPool
    var perClient = 10
    var perAccount = 100
    var window: Duration = .seconds(15 * 60)

    /// Records an attempt for `account` (a kind such as `admin`, and the value the database
    /// compares) from `client`, or throws 429 when its attempts are used up.
    func reserve(kind: String, account: String, client: String) async throws {
        let wait = try await master.withTransaction { connection -> Double? in
            // The key, and the account's lock (the next statement's snapshot then sees what
            // the previous holder committed), in one round trip.
            let key = try await connection.query("""
                SELECT k.key FROM (SELECT $1 || ':' || lower($2) AS key) k,
                       LATERAL pg_advisory_xact_lock(hashtextextended('pgperm.sign_in:' || k.key, 0))
                """, [kind, account]).scalar(String.self)
            let row = try await connection.query("""
                SELECT count(*) FILTER (WHERE client = $2) AS from_client, count(*) AS in_all,
                       extract(epoch FROM min(attempted_at) FILTER (WHERE client = $2)) AS first_from_client,
                       extract(epoch FROM min(attempted_at)) AS first_in_all,
                       extract(epoch FROM now()) AS now
                  FROM platform.sign_in_attempt
                 WHERE account = $1 AND attempted_at > now() - make_interval(secs => $3)
                """, [key, client, window / .seconds(1)]).rows[0]
            let windowSeconds = window / .seconds(1)
            let now = try row.decode(Double.self, column: "now")
            if try row.decode(Int.self, column: "from_client") >= perClient {
                return try row.decode(Double.self, column: "first_from_client") + windowSeconds - now
            }
            if try row.decode(Int.self, column: "in_all") >= perAccount {
                return try row.decode(Double.self, column: "first_in_all") + windowSeconds - now
            }
            try await connection.query("INSERT INTO platform.sign_in_attempt (account, client) VALUES ($1, $2)", [key, client])
            return nil
        }
        if let wait {
            throw APIError(status: .tooManyRequests, code: "too_many_attempts",
                           message: "too many failed sign-ins for this account",
                           hint: "Try again in \(Int(wait) / 60 + 1) minutes.")
        }
    }

    /// The attempt succeeded: that client's earlier failures are forgotten.
    func succeeded(kind: String, account: String, client: String) async throws {
        try await master.query("DELETE FROM platform.sign_in_attempt WHERE account = $1 || ':' || lower($2) AND client = $3",
                               [kind, account, client])
    }

    /// Deletes attempts older than the window (called now and then).
    func sweep() async throws {
        try await master.query("DELETE FROM platform.sign_in_attempt WHERE attempted_at < now() - make_interval(secs => $1)",
                               [window / .seconds(1)])
    }
}
