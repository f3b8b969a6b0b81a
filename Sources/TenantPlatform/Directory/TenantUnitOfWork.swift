import Permissions
import PQ

extension TenantConnectionManager {
    /// One unit of work in a tenant's database: a transaction on a pooled connection, with
    /// `auth.set_actor` as its first statement when `actor` is given, so every auth audit row
    /// it writes names the user who acted (the tenant API passes its signed-in user).
    ///
    /// - Throws: what ``withTransaction(to:begin:isolation:_:)`` throws, and whatever `body`
    ///   throws, after rolling back.
    public func withUnitOfWork<T: Sendable>(
        in tenant: TenantHandle,
        actor: UserID?,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (Connection) async throws -> T
    ) async throws -> T {
        try await withTransaction(to: tenant.connectionTarget) { connection in
            if let actor { try await AuthClient(connection).setActor(actor) }
            return try await body(connection)
        }
    }
}
