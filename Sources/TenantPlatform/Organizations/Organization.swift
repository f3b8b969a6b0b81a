import Foundation
import PQ

/// A group of related tenants sharing SSO settings, as the master database records it.
public struct Organization: Sendable, Equatable {
    public let id: OrganizationID
    public let name: String
    public let adminEmail: String?
    /// The slugs of the tenants linked to it, in order.
    public let tenantSlugs: [String]
    /// Whether Microsoft Entra ID sign-in is configured (see ``SSOSettings``).
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

/// An organization's Microsoft Entra ID sign-in settings.
public struct SSOSettings: Sendable, Equatable {
    /// The Entra (Azure AD) directory: its GUID or a verified domain such as contoso.onmicrosoft.com.
    public let entraTenantID: String
    /// The application (client) id registered in Entra, a GUID.
    public let clientID: String
    /// The client secret, decrypted; nil unless asked for (``OrganizationStore/sso(of:revealingSecret:)``).
    public let clientSecret: String?
    /// Sign-in is accepted only for emails in these domains (lower case); empty allows any.
    public let allowedDomains: [String]
    public let updatedAt: Date
}
