/// The one error type of this module: a server error with the fields libpq reports
/// (SQLSTATE, message, detail, hint, ...), or a client-side failure (connecting, decoding,
/// a closed pool).
///
/// `description` never includes bound parameter values.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, broadly.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        let name: String
        /// The server rejected a statement; `code` holds the SQLSTATE.
        public static let server = Kind(name: "server")
        /// A connection could not be opened or was lost; `message` is libpq's own.
        public static let connection = Kind(name: "connection")
        /// A value could not be decoded into the requested Swift type.
        public static let decoding = Kind(name: "decoding")
        /// No connection became free in time, or the pool is closed.
        public static let pool = Kind(name: "pool")
        /// The API was used in a way it does not support.
        public static let usage = Kind(name: "usage")
        public var description: String { name }
    }

    public var kind: Kind
    /// The SQLSTATE: the server's for `.server` errors, `08000`/`08006` for connection failures.
    public var code: SQLState?
    /// ERROR, FATAL, PANIC (server errors only).
    public var severity: String?
    public var message: String
    public var detail: String?
    public var hint: String?
    /// Where the error happened inside functions ("PL/pgSQL function ... line 3").
    public var context: String?
    /// 1-based character position of the error in the statement text, when the server knows it.
    public var position: Int?
    public var schemaName: String?
    public var tableName: String?
    public var columnName: String?
    public var constraintName: String?
    /// For errors from ``Connection/execute(script:)``: 0-based index of the failing statement.
    public var statementIndex: Int?

    public init(kind: Kind, code: SQLState? = nil, message: String, detail: String? = nil, hint: String? = nil) {
        self.kind = kind
        self.code = code
        self.message = message
        self.detail = detail
        self.hint = hint
    }

    public var description: String {
        var text: String
        switch kind {
        case .server: text = "\(severity ?? "ERROR") \(code?.rawValue ?? "?????"): \(message)"
        case .connection: text = "could not connect to PostgreSQL: \(message)"
        default: text = message
        }
        // Integrity violations (class 23) put row values in DETAIL ("Failing row contains
        // (...)"), sealed secrets included; the property keeps it, the description does not.
        if let detail, code?.rawValue.hasPrefix("23") != true { text += "\nDETAIL: \(detail)" }
        if let hint { text += "\nHINT: \(hint)" }
        if let context { text += "\nCONTEXT: \(context)" }
        return text
    }
}

extension PostgresError {
    /// Whether this connection failure means the server did not answer (stopped, unreachable,
    /// starting up or shutting down), as opposed to a server that answered and refused the
    /// login (wrong password, role not allowed to log in, unknown database, too many
    /// connections). libpq gives no SQLSTATE for most connection failures, so this reads
    /// its (English) message.
    public var isServerUnreachable: Bool {
        guard kind == .connection else { return false }
        let refusals = ["authentication failed", "not permitted to log in", "does not exist", "no pg_hba.conf entry",
                        "too many connections", "too many clients", "permission denied", "password", "remaining connection slots"]
        return !refusals.contains { message.contains($0) }
    }
}
