/// A platform operation that cannot go on: a setting, a key, a name or a state that is
/// wrong. The one error type of the platform besides ``TenantConnectionError`` (a full pool).
///
/// Catch a specific case by ``code`` without string matching:
/// ```swift
/// do { try await provisioner.create(name: "Acme", slug: "acme") }
/// catch let error as PlatformError where error.code == .tenantExists { ... }
/// ```
/// ``description`` says what was wrong and what to do; it never holds a secret (a setting's
/// value, a password, a key).
public struct PlatformError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What went wrong. `description` is the name the HTTP APIs report (`tenant_exists`).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        init(_ name: String) { self.name = name }
        public var description: String { name }

        // Configuration and keys: found at start-up, fixed by the operator.
        /// A required setting (`TENANT_ENCRYPTION_KEY`) is not set.
        public static let missingSetting = Code("missing_setting")
        /// A setting, or a line of a `.env` file, cannot be used; the value is never repeated.
        public static let invalidSetting = Code("invalid_setting")
        /// `MULTI_TENANT` is false.
        public static let multiTenantDisabled = Code("multi_tenant_disabled")
        /// `TENANT_ENCRYPTION_KEY` is not the key the master database or a sealed value was
        /// set up with, or a sealed value was altered.
        public static let wrongEncryptionKey = Code("wrong_encryption_key")
        /// A value was sealed with a key version that is not configured.
        public static let unknownKeyVersion = Code("unknown_key_version")
        /// A value is not in the sealed form (`v<version>:<base64>`).
        public static let malformedSecret = Code("malformed_secret")

        // Input: a name, an address or a setting of the request is not acceptable.
        public static let invalidSlug = Code("invalid_slug")
        /// A tenant or organization name is blank, too long, or holds control or invisible characters.
        public static let invalidName = Code("invalid_name")
        public static let invalidEmail = Code("invalid_email")
        public static let invalidDomain = Code("invalid_domain")
        public static let invalidSSOSettings = Code("invalid_sso_settings")
        /// A tenant status that cannot be set by hand (only `active` and `inactive` can).
        public static let invalidStatus = Code("invalid_status")
        /// An admin password outside 8–72 bytes.
        public static let weakPassword = Code("weak_password")
        /// A superadmin manages every tenant; granting one tenant to them means nothing.
        public static let superadminNotScoped = Code("superadmin_not_scoped")
        /// A destructive command was not confirmed.
        public static let notConfirmed = Code("not_confirmed")
        /// A server's name or settings cannot be used, or its admin login cannot create tenants.
        public static let invalidServer = Code("invalid_server")

        // Not found.
        public static let unknownTenant = Code("unknown_tenant")
        public static let unknownOrganization = Code("unknown_organization")
        public static let unknownAdminUser = Code("unknown_admin_user")
        public static let unknownServer = Code("unknown_server")
        /// The organization has no SSO settings.
        public static let ssoNotConfigured = Code("sso_not_configured")
        /// The tenant is not assigned to that organization or admin user.
        public static let notAssigned = Code("not_assigned")
        /// `pgperm migrate --resume` with no earlier run.
        public static let noMigrationToResume = Code("no_migration_to_resume")

        // Taken, or in the wrong state.
        /// The slug, database or role is taken, or `--resume` met a tenant that is not being created.
        public static let tenantExists = Code("tenant_exists")
        public static let organizationExists = Code("organization_exists")
        /// The email domain is allowed for another organization's single sign-on already.
        public static let domainTaken = Code("domain_taken")
        public static let adminUserExists = Code("admin_user_exists")
        /// The tenant is suspended (`inactive`), failed or still being created.
        public static let tenantNotActive = Code("tenant_not_active")
        /// A server name or address is taken.
        public static let serverExists = Code("server_exists")
        /// The server is draining or down and takes no new tenant.
        public static let serverNotActive = Code("server_not_active")
        /// No active server (or not the one asked for) has room for another tenant.
        public static let noCapacity = Code("no_capacity")
        /// The server still holds tenants.
        public static let serverInUse = Code("server_in_use")
        /// Moving a tenant to another server stopped at a step; it resumes when run again.
        public static let moveFailed = Code("move_failed")
        /// The tenant is being moved: another move or abort runs, or a change that must wait
        /// for the move (a suspension, a deletion) was asked for.
        public static let moveInProgress = Code("move_in_progress")
        /// The change would leave the platform without an active superadmin, or an admin
        /// would delete themself.
        public static let lastSuperadmin = Code("last_superadmin")
        /// Another migration run holds the master database's lock.
        public static let migrationRunning = Code("migration_running")

        /// Creating a tenant failed; the message names the step and what was left behind.
        public static let provisioningFailed = Code("provisioning_failed")
    }

    public let code: Code
    /// What was wrong, in one line.
    public let message: String
    /// Facts behind the message, when there are any.
    public let detail: String?
    /// What to do about it.
    public let hint: String?

    public init(_ code: Code, _ message: String, detail: String? = nil, hint: String? = nil) {
        self.code = code
        self.message = message
        self.detail = detail
        self.hint = hint
    }

    /// For code written before ``code`` replaced the `Kind` enum; compare ``code`` instead.
    @available(*, deprecated, renamed: "code")
    public var kind: Code { code }

    public var description: String {
        var text = message
        if let detail { text += "\nDETAIL: \(detail)" }
        if let hint { text += "\nHINT: \(hint)" }
        return text
    }
}
