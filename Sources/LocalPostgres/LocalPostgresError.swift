/// Why a local cluster could not be set up or driven.
public enum LocalPostgresError: Error, CustomStringConvertible, Sendable {
    case binariesNotFound
    case commandFailed(command: String, status: Int32, output: String)
    case notInitialized(path: String)
    case noServerUser

    public var description: String {
        switch self {
        case .binariesNotFound:
            "PostgreSQL server programs (initdb, pg_ctl) were not found. Install them "
                + "(Debian/Ubuntu: `apt-get install postgresql`, or run `make deps`), or set PGPERM_PG_BINDIR."
        case let .commandFailed(command, status, output):
            "`\(command)` failed with exit status \(status):\n\(output)"
        case let .notInitialized(path):
            "no PostgreSQL cluster in \(path); run `pgperm up` to create one"
        case .noServerUser:
            "running as root, but there is no `postgres` OS user to run the server as "
                + "(PostgreSQL refuses to run as root); install the postgresql package, which creates it"
        }
    }
}
