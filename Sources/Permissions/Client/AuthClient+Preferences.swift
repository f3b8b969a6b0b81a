import PQ

extension AuthClient {
    /// Sets (inserts or replaces) one preference of a user in a tenant.
    ///
    /// - Throws: `.notTenantMember`, `.invalidArgument` (blank key or nil value), `.invalidText`
    ///   (a key longer than 255 characters).
    public func setUserPreference(user: UserID, tenant: TenantID, key: String, value: String) async throws {
        try await call("""
            SELECT auth.set_user_preference(_user_id := $1, _tenant_id := $2, _preference_key := $3, _preference_value := $4)
            """, [user, tenant, key, value])
    }

    /// Every preference of a user in a tenant.
    public func userPreferences(user: UserID, tenant: TenantID) async throws -> [String: String] {
        let rows = try await call("""
            SELECT preference_key, preference_value FROM auth.get_user_preferences(_user_id := $1, _tenant_id := $2)
            """, [user, tenant])
        var preferences: [String: String] = [:]
        for row in rows {
            preferences[try row.decode(String.self, at: 0)] = try row.decode(String.self, at: 1)
        }
        return preferences
    }

    /// Deletes one preference; nothing happens when it is not set.
    public func deleteUserPreference(user: UserID, tenant: TenantID, key: String) async throws {
        try await call("""
            SELECT auth.delete_user_preference(_user_id := $1, _tenant_id := $2, _preference_key := $3)
            """, [user, tenant, key])
    }
}
