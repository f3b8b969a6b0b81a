extension Connection {
    /// Runs `body` inside `BEGIN` ... `COMMIT`; any thrown error rolls the transaction back
    /// and is rethrown.
    ///
    /// If `body` caught a server error itself, the transaction is aborted on the server; this
    /// is detected and reported instead of a silent rollback at `COMMIT`.
    ///
    /// - Parameters:
    ///   - begin: the opening statement, e.g. `BEGIN ISOLATION LEVEL SERIALIZABLE` or
    ///     `BEGIN READ ONLY`. Default `BEGIN`.
    public func withTransaction<T: Sendable>(
        begin: String = "BEGIN",
        isolation: isolated (any Actor)? = #isolation,
        _ body: (Connection) async throws -> T
    ) async throws -> T {
        try await query(begin)
        let value: T
        do {
            value = try await body(self)
        } catch {
            _ = try? await query("ROLLBACK")
            throw error
        }
        if transactionState == .failed {
            _ = try? await query("ROLLBACK")
            throw PostgresError(kind: .usage, code: .inFailedSQLTransaction,
                                message: "the transaction was aborted by an earlier error and has been rolled back")
        }
        try await query("COMMIT")
        return value
    }
}
