import PQ

/// An error raised by an `auth.*` function with one of the schema's own SQLSTATEs (class
/// `Q*`), or `42501` when a permission is required and missing.
///
/// Catch a specific case without string matching:
/// ```swift
/// do { try await auth.createTenant(name: "Acme", code: "ACME") }
/// catch let error as PermissionsError where error.code == .tenantCodeTaken { ... }
/// ```
/// One error is found before anything is sent: ``AuthClient/setActor(_:)`` outside a
/// transaction throws `.outsideTransaction`. Other failures (connection lost, constraint
/// errors from direct SQL) stay ``PostgresError``.
public struct PermissionsError: Error, Sendable, CustomStringConvertible {
    /// The SQLSTATEs of the auth schema; the README lists them all.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let sqlState: SQLState
        public init(_ sqlState: SQLState) { self.sqlState = sqlState }
        public var description: String { sqlState.rawValue }

        /// A required argument is NULL or empty.
        public static let invalidArgument = Code("QI001")
        /// A permission code is not lower-case dotted segments (`users.create_user`).
        public static let invalidPermissionCode = Code("QI002")
        /// A tenant, permission set or group code has the wrong format.
        public static let invalidCode = Code("QI003")
        /// An assignment needs exactly one of user/group and one of set/permission.
        public static let invalidAssignment = Code("QI004")
        /// `enable_tenant_isolation`: the table has no such column, or it is not uuid.
        public static let invalidTenantColumn = Code("QI005")
        /// A new password is shorter than 8 characters or longer than 72 bytes.
        public static let invalidPassword = Code("QI006")
        /// A setting (`auth.max_failed_logins`, `auth.lockout_window`, `auth.bcrypt_cost`) is malformed.
        public static let invalidSetting = Code("QI007")
        /// A username is longer than 255 characters or starts or ends with whitespace (or an
        /// invisible character); a preference key is longer than 255 characters.
        public static let invalidText = Code("QI008")
        /// A page size outside 1...500, or half of an assignment cursor (the `list` functions).
        public static let invalidPage = Code("QI009")
        /// A declaration of `apply_permission_catalogue` that is not the expected JSON: an unknown
        /// key, a wrong type, a repeated or contradictory entry; `detail` says where.
        public static let invalidDeclaration = Code("QI010")
        /// A resource type that is not a lower-case name, or a resource id over 255 characters.
        public static let invalidResource = Code("QI011")
        /// An invitation's email that is not an address (one @, no spaces, at most 254 characters).
        public static let invalidEmail = Code("QI012")
        /// A second-factor code that is not the authenticator's current one (`confirm_totp_enrolment`).
        public static let wrongSecondFactorCode = Code("QI013")
        public static let unknownTenant = Code("QN001")
        public static let unknownUser = Code("QN002")
        /// The permission code is well-formed but not in the catalogue.
        public static let unknownPermission = Code("QN003")
        /// No such permission set in this tenant (a set of another tenant counts as unknown).
        public static let unknownPermSet = Code("QN004")
        /// No such group in this tenant (a group of another tenant counts as unknown).
        public static let unknownUserGroup = Code("QN005")
        public static let notTenantMember = Code("QN006")
        public static let unknownAssignment = Code("QN007")
        public static let notGroupMember = Code("QN008")
        /// No API key with that id in that tenant (another tenant's key counts as unknown).
        public static let unknownAPIKey = Code("QN009")
        /// An invitation token that is unknown, expired, revoked or already used (one code for all);
        /// or no invitation with that id in that tenant.
        public static let invalidInvitation = Code("QN010")
        /// No authenticator enrolment pending to confirm, or none enabled to make recovery codes for.
        public static let noSecondFactor = Code("QN011")
        public static let tenantCodeTaken = Code("QD001")
        public static let usernameTaken = Code("QD002")
        public static let permSetCodeTaken = Code("QD003")
        public static let userGroupCodeTaken = Code("QD004")
        public static let permissionExists = Code("QD005")
        public static let alreadyTenantMember = Code("QD006")
        public static let alreadyGroupMember = Code("QD007")
        public static let alreadyAssigned = Code("QD008")
        /// No longer raised: assigning a current owner changes nothing.
        public static let alreadyOwner = Code("QD009")
        /// The identity at an external provider signs in as another user (`link_user_identity`).
        public static let identityTaken = Code("QD011")
        /// The permission (or a descendant) is used by a set or an assignment.
        public static let permissionInUse = Code("QS001")
        /// The user owns the tenant; transfer ownership first.
        public static let userIsTenantOwner = Code("QS002")
        public static let immutableColumn = Code("QS003")
        /// The permission set is assigned; delete it with `force` to delete its assignments too.
        public static let permSetInUse = Code("QS004")
        /// `set_actor` outside a transaction block: a WARNING from SQL, an error thrown by
        /// ``AuthClient/setActor(_:)`` before anything is sent.
        public static let outsideTransaction = Code("QS005")
        /// An invitation's email belongs to several accounts: it cannot tell which one is meant.
        public static let ambiguousEmail = Code("QS006")
        /// Revoking an invitation that was accepted already.
        public static let invitationAccepted = Code("QS007")
        /// Beginning an authenticator enrolment for a user who has one enabled: disable it first.
        public static let secondFactorEnabled = Code("QS008")
        /// Enrolling a second factor for a user without a password: it protects password sign-in only.
        public static let noPassword = Code("QS009")
        /// `require_permission` denied the user, `set_tenant_context` found no live membership,
        /// or the database role lacks a privilege.
        public static let insufficientPrivilege = Code("42501")
    }

    public let code: Code
    /// The server's error, with message, detail and hint.
    public let underlying: PostgresError

    public var message: String { underlying.message }
    public var detail: String? { underlying.detail }
    public var hint: String? { underlying.hint }
    public var description: String { underlying.description }

    /// An error found on the client before anything was sent: `underlying` is a `.usage`
    /// ``PostgresError`` with the same code, message, detail and hint.
    init(client code: Code, _ message: String, detail: String, hint: String) {
        self.code = code
        self.underlying = PostgresError(kind: .usage, code: code.sqlState, message: message, detail: detail, hint: hint)
    }

    /// Converts a server error raised by the auth schema; `nil` for any other error.
    public init?(_ error: PostgresError) {
        guard error.kind == .server, let state = error.code,
              state.rawValue.hasPrefix("Q") || state == .insufficientPrivilege else { return nil }
        self.code = Code(state)
        self.underlying = error
    }
}
