import PQ

/// Why an install did not happen. Nothing was changed in any of these cases.
public enum InstallError: Error, CustomStringConvertible, Sendable {
    /// A file failed on the server; `line` is 1-based within `path`.
    case fileFailed(path: String, line: Int?, error: PostgresError)
    /// A migration already applied has different contents now.
    case migrationChanged(path: String, applied: String, current: String)
    /// The manifest names a file that is not there.
    case manifestBroken(String)

    public var description: String {
        switch self {
        case let .fileFailed(path, line, error):
            "sql/\(path)\(line.map { ":\($0)" } ?? ""): \(error)\nNothing was installed: the whole install was rolled back."
        case let .migrationChanged(path, applied, current):
            "sql/\(path) was changed after it was applied (checksum \(applied), now \(current)). "
                + "Migrations are append-only: restore the file and ship the change as a new migration."
        case let .manifestBroken(reason):
            "the SQL manifest is broken: \(reason)"
        }
    }
}
