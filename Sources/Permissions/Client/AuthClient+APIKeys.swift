import Foundation
import PQ

extension AuthClient {
    /// Creates an API key for a tenant (`auth.create_api_key`): a technical user, a member of
    /// the tenant holding the set and/or the codes given, and the secret, returned this once.
    ///
    /// - Throws: `.unknownTenant`, `.invalidArgument` (a blank name, an expiry not in the
    ///   future), `.invalidAssignment` (neither a set nor codes), `.invalidText` (a name over 200
    ///   characters), `.unknownPermSet`, `.unknownPermission`.
    public func createAPIKey(tenant: TenantID, name: String, expiresAt: Date, permSet: String? = nil,
                             codes: [String]? = nil) async throws -> NewAPIKey {
        let row = try await call("""
            SELECT api_key_id, user_id, api_key
            FROM auth.create_api_key(_tenant_id := $1, _name := $2, _expires_at := $3, _perm_set_code := $4, _perm_codes := $5)
            """, [tenant, name, expiresAt, permSet, codes]).single()
        return NewAPIKey(id: try row.decode(column: "api_key_id"), userID: try row.decode(column: "user_id"),
                         secret: try row.decode(column: "api_key"))
    }

    /// The tenant and technical user of a valid key (`auth.authenticate_api_key`); nil for an
    /// unknown, revoked, expired or malformed one alike. The user's live access is checked
    /// as for anyone (``checkTenantAccess(tenant:user:)``).
    public func authenticateAPIKey(_ secret: String) async throws -> APIKeyIdentity? {
        guard let row = try await call("SELECT tenant_id, user_id, api_key_id FROM auth.authenticate_api_key(_api_key := $1)",
                                       [secret]).rows.first else { return nil }
        return APIKeyIdentity(tenant: try row.decode(column: "tenant_id"), user: try row.decode(column: "user_id"),
                              key: try row.decode(column: "api_key_id"))
    }

    /// Revokes a key for good (`auth.revoke_api_key`): it no longer authenticates and its
    /// technical user's membership is deactivated. Revoking it again changes nothing.
    ///
    /// - Throws: `.unknownTenant`, `.unknownAPIKey` (another tenant's key too).
    public func revokeAPIKey(tenant: TenantID, key: APIKeyID) async throws {
        try await call("SELECT auth.revoke_api_key(_tenant_id := $1, _api_key_id := $2)", [tenant, key])
    }

    /// A page of a tenant's API keys, oldest first (`auth.list_api_keys`), revoked and expired
    /// ones included.
    ///
    /// - Parameters:
    ///   - pageSize: 1 to 500. Default 50.
    ///   - after: the ``APIKey/cursor`` of the last key of the previous page; `nil` for the first.
    /// - Throws: `.unknownTenant`, `.invalidPage`.
    public func listAPIKeys(tenant: TenantID, pageSize: Int = 50, after: CreationCursor<APIKeyID>? = nil) async throws -> [APIKey] {
        try await call("""
            SELECT api_key_id, user_id, name, key_prefix, expires_at, created_at, revoked_at, last_used_at
            FROM auth.list_api_keys(_tenant_id := $1, _page_size := $2, _after_created_at := $3, _after_api_key_id := $4)
            """, [tenant, pageSize, after?.createdAt, after?.id]).map(APIKey.init(row:))
    }
}
