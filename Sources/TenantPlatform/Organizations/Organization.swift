import Foundation
import PQ

/// A group of related tenants sharing SSO settings, as the master database records it.
public struct Organization: Sendable, Equatable {
    public let id: OrganizationID
    public let name: String
    public let adminEmail: String?
    /// The slugs of the tenants linked to it, in order.
    public let tenantSlugs: [String]
    /// Whether single sign-on is configured (see ``SSOSettings``).
    public let hasSSO: Bool
    public let createdAt: Date

    public var tenantCount: Int { tenantSlugs.count }

    /// Selects an organization row with its tenants; `WHERE` clauses name the table `o`.
    static let select = """
        SELECT o.organization_id, o.name, o.admin_email, o.created_at,
               EXISTS (SELECT 1 FROM platform.organization_sso s WHERE s.organization_id = o.organization_id) AS has_sso,
               ARRAY(SELECT t.slug FROM platform.tenant t WHERE t.organization_id = o.organization_id ORDER BY t.slug) AS tenant_slugs
          FROM platform.organization o
        """

    init(row: Row) throws {
        id = try row.decode(column: "organization_id")
        name = try row.decode(column: "name")
        adminEmail = try row.decode(column: "admin_email")
        tenantSlugs = try row.decode(column: "tenant_slugs")
        hasSSO = try row.decode(column: "has_sso")
        createdAt = try row.decode(column: "created_at")
    }
}

/// Who an organization's users sign in with.
public enum SSOProvider: Sendable, Equatable {
    /// Microsoft Entra ID: the directory (tenant) id, a GUID (lower case) or one of its
    /// domains (contoso.onmicrosoft.com). Endpoints are the directory's v2.0 ones.
    case entraID(tenantID: String)
    /// Any OpenID Connect provider, by its issuer URL (its discovery document is at
    /// `{issuer}/.well-known/openid-configuration`).
    case openIDConnect(issuer: String)
}

/// What a first sign-in of someone who is not a member yet does: nothing (refused), or
/// create the member, with a permission set of the tenant when one is named.
public struct JustInTimeMembership: Sendable, Equatable {
    public var enabled: Bool
    /// The code of the permission set (in each tenant) new members get; nil for none.
    public var permSet: String?

    public init(enabled: Bool, permSet: String? = nil) {
        self.enabled = enabled
        self.permSet = permSet
    }

    public static let off = JustInTimeMembership(enabled: false)
}

/// An organization's single sign-on settings.
public struct SSOSettings: Sendable, Equatable {
    public let provider: SSOProvider
    /// The application (client) id registered at the provider.
    public let clientID: String
    /// The client secret, decrypted; nil unless asked for (``OrganizationStore/sso(of:revealingSecret:)``).
    public let clientSecret: String?
    /// Sign-in is accepted only for verified emails in these domains (lower case). Each
    /// domain belongs to this organization only. Empty allows any account of an Entra
    /// directory; a generic provider needs at least one.
    public let allowedDomains: [String]
    public let justInTime: JustInTimeMembership
    public let updatedAt: Date

    /// The Entra directory id, for an Entra provider.
    public var entraTenantID: String? {
        if case .entraID(let tenantID) = provider { tenantID } else { nil }
    }
}
