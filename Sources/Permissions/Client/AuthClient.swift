import PQ

/// Typed access to every function of the `auth` schema.
///
/// An `AuthClient` runs on a ``ConnectionPool`` (each call leases a connection) or on one
/// ``Connection``, for example inside a transaction:
/// ```swift
/// let auth = AuthClient(pool)
/// if try await auth.hasPermission(tenant: tenant, user: user, code: "users.create_user") { ... }
///
/// try await pool.withTransaction { connection in
///     let auth = AuthClient(connection)
///     try await auth.setActor(admin)
///     let group = try await auth.createUserGroup(tenant: tenant, code: "ADMINS", name: "Administrators")
///     try await auth.assignPermission(tenant: tenant, to: .group(group), grant: .permSet("FULL_ACCESS"))
/// }
/// ```
/// Errors raised by the schema are thrown as ``PermissionsError``; anything else as
/// ``PostgresError``.
///
/// Given a ``PermissionCache``, the client tells it what each of its writes changed as soon
/// as the write commits (at once outside a transaction, at COMMIT inside one), so the cache
/// never answers from what the process itself has just changed.
public struct AuthClient: Sendable {
    public let executor: any QueryExecutor
    /// The cache this client's writes keep current; `nil` for none.
    public let cache: PermissionCache?

    public init(_ executor: any QueryExecutor, cache: PermissionCache? = nil) {
        self.executor = executor
        self.cache = cache
    }

    /// Runs one call of an `auth` function as a prepared statement (the text is fixed),
    /// mapping the schema's SQLSTATEs to ``PermissionsError``.
    @discardableResult
    func call(_ sql: String, _ binds: [any PostgresEncodable]) async throws -> QueryResult {
        do {
            let result = try await executor.query(sql, binds, prepared: true)
            cache?.didCall(sql, binds, on: executor)
            return result
        } catch let error as PostgresError {
            throw PermissionsError(error) ?? error
        }
    }

    /// Runs a call whose single result is one value.
    func value<T: PostgresDecodable>(_ type: T.Type, _ sql: String, _ binds: [any PostgresEncodable]) async throws -> T {
        try await call(sql, binds).scalar(T.self)
    }
}
