import Foundation
import Hummingbird
import TenantPlatform

/// `/admin/api/organizations`: the Organizations tab. Every admin sees the organizations, each
/// with the tenants that admin manages; only superadmins change them (403 otherwise), since
/// an organization's SSO settings reach tenants other admins may not manage. An organization
/// is named in the path by its id or its name.
struct AdminOrganizationRoutes {
    let platform: Platform

    struct NewOrganization: Decodable {
        let name: String
        let adminEmail: String
    }

    /// The client secret is write-only: left out, the stored one is kept.
    struct SSOChange: Decodable {
        let entraTenantId: String
        let clientId: String
        let clientSecret: String?
        let allowedDomains: [String]
    }

    struct OrganizationView: ResponseEncodable {
        let id: APIID
        let name: String
        let adminEmail: String?
        let tenantSlugs: [String]
        let hasSso: Bool
        let createdAt: Date

        init(_ organization: Organization, visibleTo admin: AdminUser) {
            id = APIID(organization.id)
            name = organization.name
            adminEmail = organization.adminEmail
            tenantSlugs = admin.isSuperadmin ? organization.tenantSlugs : organization.tenantSlugs.filter(admin.tenantSlugs.contains)
            hasSso = organization.hasSSO
            createdAt = organization.createdAt
        }
    }

    /// The settings without the secret, whose presence alone is said.
    struct SSOView: ResponseEncodable {
        /// One of the two: the Entra directory, or a generic provider's issuer.
        let entraTenantId: String?
        let issuer: String?
        let clientId: String
        let hasClientSecret: Bool
        let allowedDomains: [String]
        let updatedAt: Date

        init(_ settings: SSOSettings) {
            entraTenantId = settings.entraTenantID
            if case .openIDConnect(let url) = settings.provider { issuer = url } else { issuer = nil }
            clientId = settings.clientID
            hasClientSecret = true  // stored with the settings, always
            allowedDomains = settings.allowedDomains
            updatedAt = settings.updatedAt
        }
    }

    struct DeletedView: ResponseEncodable {
        let unlinkedTenants: [String]
    }

    func register(on group: RouterGroup<PortalContext>) {
        let organizations = platform.organizations

        group.get("organizations") { _, context in
            let admin = try context.requireAdmin()
            return try await organizations.all().map { OrganizationView($0, visibleTo: admin) }
        }
        group.post("organizations") { request, context in
            let admin = try requireSuperadmin(context, to: "create organizations")
            let new = try await request.decode(as: NewOrganization.self, context: context)
            let created = try await organizations.create(name: new.name, adminEmail: new.adminEmail)
            return EditedResponse(status: .created, response: OrganizationView(created, visibleTo: admin))
        }
        group.get("organizations/{organization}") { _, context in
            OrganizationView(try await organization(context), visibleTo: try context.requireAdmin())
        }
        group.delete("organizations/{organization}") { _, context in
            try requireSuperadmin(context, to: "delete organizations")
            return DeletedView(unlinkedTenants: try await organizations.delete(try await organization(context).id.description))
        }
        group.put("organizations/{organization}/tenants/{slug}") { _, context in
            let admin = try requireSuperadmin(context, to: "assign tenants to organizations")
            let target = try await organization(context)
            try await organizations.assign(tenant: try context.parameters.require("slug"), to: target.id.description)
            return OrganizationView(try await organizations.require(target.id.description), visibleTo: admin)
        }
        group.delete("organizations/{organization}/tenants/{slug}") { _, context in
            let admin = try requireSuperadmin(context, to: "unassign tenants from organizations")
            let target = try await organization(context)
            try await organizations.unassign(tenant: try context.parameters.require("slug"), from: target.id.description)
            return OrganizationView(try await organizations.require(target.id.description), visibleTo: admin)
        }
        group.get("organizations/{organization}/sso") { _, context in
            try requireSuperadmin(context, to: "read SSO settings")
            let target = try await organization(context)
            guard let settings = try await organizations.sso(of: target.id.description) else {
                throw PlatformError(.ssoNotConfigured, "organization '\(target.name)' has no SSO settings",
                                    hint: "Set them with the organization's SSO form.")
            }
            return SSOView(settings)
        }
        group.put("organizations/{organization}/sso") { request, context in
            try requireSuperadmin(context, to: "configure SSO")
            let target = try await organization(context)
            let change = try await request.decode(as: SSOChange.self, context: context)
            return SSOView(try await organizations.setSSO(of: target.id.description, entraTenantID: change.entraTenantId,
                                                          clientID: change.clientId, clientSecret: change.clientSecret,
                                                          allowedDomains: change.allowedDomains))
        }
        group.delete("organizations/{organization}/sso") { _, context in
            try requireSuperadmin(context, to: "remove SSO settings")
            try await organizations.removeSSO(of: try await organization(context).id.description)
            return Response(status: .noContent)
        }
    }

    private func organization(_ context: PortalContext) async throws -> Organization {
        try await platform.organizations.require(try context.parameters.require("organization"))
    }
}

/// The signed-in admin, if a superadmin; 403 naming the action otherwise.
@discardableResult
func requireSuperadmin(_ context: PortalContext, to action: String) throws -> AdminUser {
    let admin = try context.requireAdmin()
    guard admin.isSuperadmin else {
        throw APIError.forbidden("only superadmins may \(action)", hint: "Ask a superadmin.")
    }
    return admin
}
