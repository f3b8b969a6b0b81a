import PQ

/// Identities at external providers (single sign-on): who an (issuer, subject) pair signs
/// in as. The caller has verified the provider's token; these calls trust what they are given.
extension AuthClient {
    /// The user the identity signs in as, active or not (`auth.get_user_by_identity`); `nil`
    /// when it is linked to no one. Issuer and subject are compared exactly.
    ///
    /// - Throws: ``PermissionsError`` `.invalidArgument` (blank), `.invalidText` (an issuer
    ///   over 2048 or a subject over 255 characters).
    public func userByIdentity(issuer: String, subject: String) async throws -> UserID? {
        try await value(UserID?.self, "SELECT auth.get_user_by_identity(_issuer := $1, _subject := $2)", [issuer, subject])
    }

    /// Links the identity to the user (`auth.link_user_identity`). Linking it again to the
    /// same user records a sign-in (its time and the email given).
    ///
    /// - Returns: `true` when the link is new.
    /// - Throws: `.invalidArgument`, `.invalidText`, `.unknownUser`, or `.identityTaken` when
    ///   the identity signs in as another user.
    @discardableResult
    public func linkUserIdentity(_ user: UserID, issuer: String, subject: String, email: String? = nil) async throws -> Bool {
        try await value(Bool.self, "SELECT auth.link_user_identity(_user_id := $1, _issuer := $2, _subject := $3, _email := $4)",
                        [user, issuer, subject, email])
    }

    /// Unlinks the identity from the user (`auth.unlink_user_identity`).
    ///
    /// - Returns: `true` when it was linked to them.
    /// - Throws: `.invalidArgument`, `.invalidText`, `.unknownUser`.
    @discardableResult
    public func unlinkUserIdentity(_ user: UserID, issuer: String, subject: String) async throws -> Bool {
        try await value(Bool.self, "SELECT auth.unlink_user_identity(_user_id := $1, _issuer := $2, _subject := $3)",
                        [user, issuer, subject])
    }

    /// The identities linked to the user, by issuer and subject (`auth.get_user_identities`).
    ///
    /// - Throws: `.invalidArgument`, `.unknownUser`.
    public func userIdentities(_ user: UserID) async throws -> [UserIdentity] {
        try await call("""
            SELECT issuer, subject, email, linked_at, last_used_at FROM auth.get_user_identities(_user_id := $1)
            """, [user]).map(UserIdentity.init(row:))
    }

    /// The active member of the tenant whose email is `email`, ignoring case
    /// (`auth.get_tenant_member_by_email`): whom a first single sign-on links to.
    ///
    /// - Throws: `.invalidArgument`, `.unknownTenant`, or `.ambiguousEmail` when several
    ///   active members have that email.
    public func tenantMember(tenant: TenantID, email: String) async throws -> UserID? {
        try await value(UserID?.self, "SELECT auth.get_tenant_member_by_email(_tenant_id := $1, _email := $2)", [tenant, email])
    }
}
