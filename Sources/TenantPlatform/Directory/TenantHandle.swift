import Permissions

/// Everything needed to reach one tenant: its registry row (whose fields it shows as its
/// own: `handle.slug`, `handle.databaseName`) and the server holding its database.
/// ``TenantDirectory`` hands them out; nothing else finds tenants.
@dynamicMemberLookup
public struct TenantHandle: Sendable, Equatable {
    public var record: TenantRecord
    public let server: DatabaseServer

    public subscript<Value>(dynamicMember field: KeyPath<TenantRecord, Value>) -> Value {
        record[keyPath: field]
    }

    /// The tenant row inside its database.
    ///
    /// - Throws: ``PlatformError`` `.tenantNotActive` while the tenant is being created (it is
    ///   recorded when the database is seeded).
    public func authTenantID() throws -> TenantID {
        guard let id = record.authTenantID else {
            throw PlatformError(.tenantNotActive, "tenant '\(record.slug)' is \(record.status.rawValue): its database is not seeded yet",
                                hint: "`pgperm tenant create --resume \(record.slug)` finishes its creation.")
        }
        return id
    }

    /// What the connection manager pools this tenant's connections under: its id (so a
    /// rename keeps the pool) and its server (whose ceiling they count against).
    public var connectionTarget: TenantConnectionTarget {
        TenantConnectionTarget(tenant: record.id, server: server.id, serverName: server.name,
                               serverCeiling: server.maxConnections, name: record.slug)
    }
}
