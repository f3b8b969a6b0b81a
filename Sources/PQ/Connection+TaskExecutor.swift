extension Connection {
    /// The connection's thread as a task executor.
    ///
    /// A pool outside this module runs a lease's body with this preference (as
    /// ``ConnectionPool/withConnection(isolation:_:)`` does), so the body's queries run inline on
    /// the connection's thread, with no thread switch:
    /// `try await withTaskExecutorPreference(connection.taskExecutor) { try await body(connection) }`.
    public var taskExecutor: any TaskExecutor { thread }
}
