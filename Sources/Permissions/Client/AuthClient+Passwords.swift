import PQ

extension AuthClient {
    /// Sets or replaces a user's password (`auth.set_user_password`), stored as a salted bcrypt
    /// hash; also clears the user's failed logins and any lock.
    ///
    /// - Parameter password: 8 characters to 72 bytes of UTF-8 (bcrypt ignores anything longer).
    /// - Throws: ``PermissionsError`` `.invalidArgument` (blank password), `.invalidPassword`
    ///   (too short or too long), `.unknownUser`, `.invalidSetting` (`auth.bcrypt_cost`).
    public func setUserPassword(_ user: UserID, password: String) async throws {
        try await call("SELECT auth.set_user_password(_user_id := $1, _password := $2)", [user, password])
    }

    /// Logs a user in (`auth.verify_user_password`): the user's id when the password is right and
    /// the user is active and not locked out, `nil` otherwise. The username ignores case.
    ///
    /// A wrong password counts towards the lockout (`auth.max_failed_logins` within
    /// `auth.lockout_window`), so call it outside a transaction, or in one that commits.
    ///
    /// - Throws: `.invalidSetting` when a lockout setting is malformed; never for a wrong guess.
    public func verifyUserPassword(username: String, password: String) async throws -> UserID? {
        try await value(UserID?.self, "SELECT auth.verify_user_password(_username := $1, _password := $2)",
                        [username, password])
    }

    /// Lifts a lock left by failed logins and forgets the failures counted
    /// (`auth.unlock_user`); the password stays. Unlocking an unlocked user changes nothing.
    ///
    /// - Returns: `true` when the account was locked.
    /// - Throws: `.unknownUser`.
    @discardableResult
    public func unlockUser(_ user: UserID) async throws -> Bool {
        try await value(Bool.self, "SELECT auth.unlock_user(_user_id := $1)", [user])
    }
}
