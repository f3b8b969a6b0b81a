/// Where the connection manager gets a tenant's connection string.
///
/// In production this reads the tenant's row in the master registry and decrypts its
/// credentials. The manager calls it only when it opens a pool for the tenant (first use, or
/// the first use after the pool was closed or evicted), never per lease, so decrypted
/// credentials are produced rarely and live only as long as the pool.
public protocol TenantConnectionSource: Sendable {
    /// The libpq URL or `key=value` conninfo of the tenant's database.
    ///
    /// - Parameter target: the tenant, as passed to
    ///   ``TenantConnectionManager/withConnection(to:isolation:_:)``.
    /// - Throws: anything; the lease that opened the pool (and every task waiting for that
    ///   tenant) fails with this error, and the next lease asks again.
    func connectionInfo(for target: TenantConnectionTarget) async throws -> String
}
