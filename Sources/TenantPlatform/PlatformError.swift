/// A platform operation that cannot go on; the description says what was wrong and what to do.
public struct PlatformError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Kind: Sendable, Equatable {
        case invalidSlug, tenantExists, unknownTenant, tenantNotActive, provisioningFailed, wrongEncryptionKey
        case unknownOrganization, organizationExists, unknownAdminUser, notConfirmed
        case invalidName, invalidEmail, invalidDomain, invalidSSOSettings, ssoNotConfigured, notAssigned
        case weakPassword, adminUserExists, superadminNotScoped, multiTenantDisabled, invalidStatus
        case unknownServer, serverExists, serverNotActive, noCapacity, serverInUse, invalidServer
    }

    public let kind: Kind
    public let message: String
    public let hint: String?

    public init(_ kind: Kind, _ message: String, hint: String? = nil) {
        self.kind = kind
        self.message = message
        self.hint = hint
    }

    public var description: String { hint.map { "\(message)\nHint: \($0)" } ?? message }
}
