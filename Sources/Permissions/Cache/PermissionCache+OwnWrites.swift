import PQ

extension PermissionCache {
    /// Called by an ``AuthClient`` made with this cache after each successful call: drops what
    /// a write may have changed once it is committed, so the process never reads its own
    /// change from stale memory while the change event is on its way.
    func didCall(_ sql: String, _ binds: [any PostgresEncodable], on executor: any QueryExecutor) {
        let changes = Self.accessChanges(ofCall: sql, binds: binds)
        guard !changes.isEmpty else { return }
        let drop: @Sendable () -> Void = { for change in changes { self.apply(change) } }
        if let connection = executor as? Connection {
            connection.afterTransaction(drop)  // at once outside a transaction
        } else {
            drop()  // a pool's call commits before it returns
        }
    }

    /// What a call of an `auth` function may change for the checks: the tenants among its
    /// arguments, or everything for a write that reaches across tenants (a user's
    /// (de)activation or deletion, the catalogue); nothing for reads.
    static func accessChanges(ofCall sql: String, binds: [any PostgresEncodable]) -> [AccessChange] {
        guard let start = sql.range(of: "auth.")?.upperBound else { return [] }
        let name = String(sql[start...].prefix { $0.isLetter || $0 == "_" })
        if readPrefixes.contains(where: name.hasPrefix) || withoutEffectOnChecks.contains(name) { return [] }
        let tenants = binds.compactMap { $0 as? TenantID }
        return tenants.isEmpty ? [.all] : tenants.map(AccessChange.tenant)
    }

    /// Functions that only read (`require_permission` too).
    private static let readPrefixes = ["has_", "require_", "get_", "list_", "is_", "check_", "explain_", "current_"]

    /// Writes that change no check's answer: new ids nobody can have checked yet, names,
    /// passwords and second factors, preferences, session settings. (`create_permission` neither: a code the
    /// cached catalogue lacks is checked by the database.)
    private static let withoutEffectOnChecks: Set<String> = [
        "create_user", "update_user", "create_tenant", "update_tenant", "create_permission",
        "set_user_password", "verify_user_password", "unlock_user", "set_user_preference", "delete_user_preference",
        "set_actor", "set_tenant_context", "enable_tenant_isolation", "create_perm_set", "create_user_group",
        "begin_totp_enrolment", "confirm_totp_enrolment", "cancel_totp_enrolment", "disable_totp",
        "regenerate_recovery_codes", "verify_second_factor", "set_second_factor_policy",
    ]
}
