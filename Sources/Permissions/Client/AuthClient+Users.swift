import PQ

extension AuthClient {
    /// Creates a user (`auth.create_user`).
    ///
    /// - Parameters:
    ///   - username: unique, compared case-insensitively; at most 255 characters, without
    ///     leading or trailing whitespace.
    ///   - email: optional.
    ///   - displayName: optional.
    /// - Returns: the new user's id.
    /// - Throws: ``PermissionsError`` `.invalidArgument` (blank username), `.invalidText`
    ///   (too long, or leading or trailing whitespace), `.usernameTaken`.
    public func createUser(username: String, email: String? = nil, displayName: String? = nil) async throws -> UserID {
        try await value(UserID.self, "SELECT auth.create_user(_username := $1, _email := $2, _display_name := $3)",
                        [username, email, displayName])
    }

    /// Changes a user's details (`auth.update_user`); `nil` leaves a field unchanged and an
    /// empty string clears the email or display name.
    ///
    /// - Throws: `.unknownUser`, `.usernameTaken`, `.invalidArgument`, `.invalidText`.
    public func updateUser(_ user: UserID, username: String? = nil, email: String? = nil, displayName: String? = nil) async throws {
        try await call("SELECT auth.update_user(_user_id := $1, _username := $2, _email := $3, _display_name := $4)",
                       [user, username, email, displayName])
    }

    /// Deactivates a user everywhere: every check for them is denied until reactivated.
    ///
    /// - Throws: `.unknownUser`.
    public func deactivateUser(_ user: UserID) async throws {
        try await call("SELECT auth.deactivate_user(_user_id := $1)", [user])
    }

    /// Reactivates a user (`auth.activate_user`).
    ///
    /// - Throws: `.unknownUser`.
    public func activateUser(_ user: UserID) async throws {
        try await call("SELECT auth.activate_user(_user_id := $1)", [user])
    }

    /// Deletes a user everywhere (`auth.delete_user`): password, memberships, group
    /// memberships, ownerships, direct assignments and preferences. The audit log keeps the history.
    ///
    /// - Parameters:
    ///   - user: the user to delete.
    ///   - force: also delete a user who owns tenants; those tenants keep their other owners,
    ///     or are left without one. Default `false`: a tenant owner is refused.
    /// - Throws: `.unknownUser`, `.userIsTenantOwner` (without `force`); its `detail` lists the tenants.
    public func deleteUser(_ user: UserID, force: Bool = false) async throws {
        try await call("SELECT auth.delete_user(_user_id := $1, _force := $2)", [user, force])
    }
}
