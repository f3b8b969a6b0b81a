import PQ

/// A database failure said for people: the server's own words, without libpq's preamble
/// naming hosts and socket paths.
public enum DatabaseFailure {
    /// "connection to server on socket "/tmp/.s.PGSQL.5432" failed: FATAL:  password authentication
    /// failed for user ..." → "password authentication failed for user ...".
    public static func reason(_ error: any Error) -> String {
        var text = (error as? PostgresError)?.message ?? "\(error)"
        if let range = text.range(of: "failed: ") { text = String(text[range.upperBound...]) }
        for prefix in ["FATAL:", "ERROR:"] where text.hasPrefix(prefix) {
            text = String(text.dropFirst(prefix.count))
        }
        return text.split(separator: "\n").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? text
    }
}
