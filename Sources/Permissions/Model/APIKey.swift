import Foundation
import PQ

/// A tenant's API key as `auth.list_api_keys` lists it: never its secret.
public struct APIKey: Sendable, Hashable {
    public let id: APIKeyID
    /// The key's technical user: the member it acts as.
    public let userID: UserID
    public let name: String
    /// The secret's first 12 characters (`pgpk_` and 7 more), to recognise it.
    public let prefix: String
    public let expiresAt: Date
    public let createdAt: Date
    public let revokedAt: Date?
    /// Recorded at most once a minute.
    public let lastUsedAt: Date?

    /// The page key of ``AuthClient/listAPIKeys(tenant:pageSize:after:)``.
    public var cursor: CreationCursor<APIKeyID> { CreationCursor(createdAt: createdAt, id: id) }

    init(row: Row) throws {
        id = try row.decode(column: "api_key_id")
        userID = try row.decode(column: "user_id")
        name = try row.decode(column: "name")
        prefix = try row.decode(column: "key_prefix")
        expiresAt = try row.decode(column: "expires_at")
        createdAt = try row.decode(column: "created_at")
        revokedAt = try row.decode(column: "revoked_at")
        lastUsedAt = try row.decode(column: "last_used_at")
    }
}

/// A key just made: the only time its secret is seen.
public struct NewAPIKey: Sendable, Hashable {
    public let id: APIKeyID
    public let userID: UserID
    /// `pgpk_` and 64 hexadecimal characters. Shown once: it is not stored.
    public let secret: String
}

/// Who a valid key is: its tenant and technical user.
public struct APIKeyIdentity: Sendable, Hashable {
    public let tenant: TenantID
    public let user: UserID
    public let key: APIKeyID
}
