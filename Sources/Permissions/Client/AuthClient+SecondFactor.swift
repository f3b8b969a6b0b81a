import PQ

extension AuthClient {
    /// Begins enrolling an authenticator app for a user (`auth.begin_totp_enrolment`): a new
    /// secret, pending until the user types a code of it into
    /// ``confirmTOTPEnrolment(user:code:)``. Beginning again replaces a pending secret.
    ///
    /// - Parameter issuer: the name the app shows next to the account (at most 100 characters, no colon).
    /// - Throws: `.unknownUser`, `.invalidText` (the issuer), `.secondFactorEnabled` (disable
    ///   the enabled one first), `.noPassword` (a second factor protects password sign-in only).
    public func beginTOTPEnrolment(user: UserID, issuer: String = "pgperm") async throws -> TOTPEnrolment {
        let row = try await call("SELECT secret, otpauth_uri FROM auth.begin_totp_enrolment(_user_id := $1, _issuer := $2)",
                                 [user, issuer]).single()
        return TOTPEnrolment(secret: try row.decode(column: "secret"), otpauthURI: try row.decode(column: "otpauth_uri"))
    }

    /// Enables the pending authenticator once the user types its current code
    /// (`auth.confirm_totp_enrolment`), and returns 10 recovery codes, shown this once.
    ///
    /// - Throws: `.unknownUser`, `.noSecondFactor` (nothing pending), `.wrongSecondFactorCode`.
    public func confirmTOTPEnrolment(user: UserID, code: String) async throws -> [String] {
        try await recoveryCodes("SELECT auth.confirm_totp_enrolment(_user_id := $1, _code := $2)", [user, code])
    }

    /// The second step of a password login (`auth.verify_second_factor`): whether `code` is the
    /// user's current authenticator code or an unused recovery code (which this spends). A
    /// wrong code counts towards the password's lockout, so call it outside a transaction (or
    /// in one that commits whatever the answer); `false` also for a user without an
    /// authenticator or a password, or a locked account.
    ///
    /// - Throws: `.invalidSetting` when a lockout setting is malformed; never for a wrong code.
    public func verifySecondFactor(user: UserID, code: String) async throws -> Bool {
        try await value(Bool.self, "SELECT auth.verify_second_factor(_user_id := $1, _code := $2)", [user, code])
    }

    /// Removes a user's authenticator, pending or enabled, with its recovery codes
    /// (`auth.disable_totp`).
    ///
    /// - Returns: `true` when there was one.
    /// - Throws: `.unknownUser`.
    @discardableResult
    public func disableTOTP(user: UserID) async throws -> Bool {
        try await value(Bool.self, "SELECT auth.disable_totp(_user_id := $1)", [user])
    }

    /// Cancels a pending enrolment, never an enabled authenticator (`auth.cancel_totp_enrolment`).
    ///
    /// - Returns: `true` when there was one.
    /// - Throws: `.unknownUser`.
    @discardableResult
    public func cancelTOTPEnrolment(user: UserID) async throws -> Bool {
        try await value(Bool.self, "SELECT auth.cancel_totp_enrolment(_user_id := $1)", [user])
    }

    /// What the user still owes to sign in to the tenant after a right password
    /// (`auth.second_factor_step`): nothing, a code, or an enrolment the tenant requires.
    ///
    /// - Throws: `.unknownTenant`, `.unknownUser`.
    public func secondFactorStep(tenant: TenantID, user: UserID) async throws -> SecondFactorStep {
        try await value(SecondFactorStep.self, "SELECT auth.second_factor_step(_tenant_id := $1, _user_id := $2)", [tenant, user])
    }

    /// Replaces a user's recovery codes with 10 new ones, shown this once
    /// (`auth.regenerate_recovery_codes`).
    ///
    /// - Throws: `.unknownUser`, `.noSecondFactor` (no authenticator enabled).
    public func regenerateRecoveryCodes(user: UserID) async throws -> [String] {
        try await recoveryCodes("SELECT auth.regenerate_recovery_codes(_user_id := $1)", [user])
    }

    /// A user's second factor: enabled or pending, and the recovery codes left (`auth.get_second_factor`).
    ///
    /// - Throws: `.unknownUser`.
    public func secondFactor(user: UserID) async throws -> SecondFactorStatus {
        try SecondFactorStatus(row: try await call("""
            SELECT is_enabled, is_pending, enabled_at, recovery_codes_left FROM auth.get_second_factor(_user_id := $1)
            """, [user]).single())
    }

    /// Sets whether password sign-in to the tenant needs a second factor (`auth.set_second_factor_policy`).
    ///
    /// - Throws: `.unknownTenant`.
    public func setSecondFactorPolicy(tenant: TenantID, _ policy: SecondFactorPolicy) async throws {
        try await call("SELECT auth.set_second_factor_policy(_tenant_id := $1, _policy := $2)", [tenant, policy])
    }

    /// Whether password sign-in to the tenant needs a second factor (`auth.get_second_factor_policy`).
    ///
    /// - Throws: `.unknownTenant`.
    public func secondFactorPolicy(tenant: TenantID) async throws -> SecondFactorPolicy {
        try await value(SecondFactorPolicy.self, "SELECT auth.get_second_factor_policy(_tenant_id := $1)", [tenant])
    }

    /// The codes of a function returning `text[]`, in order.
    private func recoveryCodes(_ call: String, _ binds: [any PostgresEncodable]) async throws -> [String] {
        try await self.call("SELECT code FROM unnest((\(call))) WITH ORDINALITY AS c(code, n) ORDER BY n", binds)
            .map { try $0.decode(String.self, at: 0) }
    }
}
