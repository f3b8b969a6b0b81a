import Foundation
import Hummingbird
import Permissions
import TenantPlatform

/// An admin user as the API shows it.
struct AdminUserView: ResponseEncodable {
    let id: APIID
    let email: String
    let role: String
    let isActive: Bool
    /// For a regular admin, the tenants it manages.
    let tenantSlugs: [String]
    let createdAt: Date

    init(_ user: AdminUser) {
        id = APIID(user.id)
        email = user.email
        role = user.role.rawValue
        isActive = user.isActive
        tenantSlugs = user.tenantSlugs
        createdAt = user.createdAt
    }
}

/// A tenant as the API shows it: the registry row without its sealed secrets.
struct TenantView: ResponseEncodable {
    let id: APIID
    let name: String
    let slug: String
    let status: String
    /// The database server it lives on.
    let server: String
    let databaseName: String
    let roleName: String
    let adminEmail: String
    let schemaVersion: String?
    let organizationId: APIID?
    /// For a tenant whose creation stopped: the step it reached and why.
    let provisioningStep: String?
    let lastError: String?
    let createdAt: Date?
    let updatedAt: Date?

    init(_ tenant: TenantHandle) {
        let record = tenant.record
        id = APIID(record.id)
        name = record.name
        slug = record.slug
        status = record.status.rawValue
        server = tenant.server.name
        databaseName = record.databaseName
        roleName = record.roleName
        adminEmail = record.adminEmail
        schemaVersion = record.schemaVersion
        organizationId = record.organizationID.map(APIID.init)
        provisioningStep = record.provisioningStep
        lastError = record.lastError
        createdAt = record.createdAt
        updatedAt = record.updatedAt
    }
}

/// An id in a JSON answer: lower-case uuid text, as PostgreSQL and the SQL functions write
/// it (Foundation would write upper case).
struct APIID: Encodable, Sendable {
    let text: String

    init(_ uuid: UUID) {
        text = uuid.uuidString.lowercased()
    }

    init(_ id: some EntityID) {
        text = id.description
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}
