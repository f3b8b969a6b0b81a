import Foundation
import Hummingbird
import PQ
import TenantPlatform

/// `/admin/api/tenants`: the Tenants tab. Superadmins see and manage every tenant and alone
/// create and delete them; a regular admin sees and manages the tenants granted to it (403
/// for creating or deleting one), and any other slug answers 404, as if it did not exist.
struct AdminTenantRoutes {
    let platform: Platform
    /// The tenant API's memory of unknown slugs: a slug this process creates or renames a
    /// tenant to is forgotten there at once, so `/t/{new slug}/` works on the next request.
    let unknownTenants: UnknownTenantCache

    /// `server` names the database server; left out, the active one with the most room.
    struct NewTenant: Decodable {
        let name: String
        let slug: String
        let server: String?
    }

    struct Created: ResponseEncodable {
        let tenant: TenantView
        let clonedFromTemplate: Bool
        let seconds: Double
    }

    /// Fields left out stay as they are; `status` is `active` or `inactive` (suspend/resume).
    struct Change: Decodable {
        let name: String?
        let slug: String?
        let status: String?
    }

    struct CredentialsView: ResponseEncodable {
        let adminEmail: String
        let adminPassword: String
        let roleName: String
        let databaseName: String
        let conninfo: String
    }

    struct ConnectionTestView: ResponseEncodable {
        let ok: Bool
        let latencyMs: Double?
        let schemaVersion: String?
        let serverVersion: Int?
        let databaseSizeBytes: Int64?
        let error: String?
    }

    /// One page of the list, and how many tenants match in all.
    struct TenantListView: ResponseEncodable {
        let tenants: [TenantView]
        let total: Int
        let page: Int
        let perPage: Int
    }

    func register(on group: RouterGroup<PortalContext>) {
        let lifecycle = TenantLifecycle(platform: platform)

        group.get("tenants") { request, context in
            let admin = try context.requireAdmin()
            let search = try Self.search(QueryParameters(request), admin: admin)
            let page = try await platform.directory.search(search)
            return TenantListView(tenants: page.tenants.map(TenantView.init), total: page.total, page: search.page,
                                  perPage: search.perPage)
        }
        group.post("tenants") { request, context in
            try requireSuperadmin(context, to: "create tenants")
            let new = try await request.decode(as: NewTenant.self, context: context)
            let report = try await TenantProvisioner(platform: platform).create(name: new.name, slug: new.slug, server: new.server)
            await unknownTenants.remove(report.tenant.slug)
            let created = Created(tenant: TenantView(report.tenant), clonedFromTemplate: report.clonedFromTemplate,
                                  seconds: report.duration.seconds)
            return EditedResponse(status: .created, response: created)
        }
        group.get("tenants/{slug}") { _, context in
            TenantView(try await managedTenant(context))
        }
        group.patch("tenants/{slug}") { request, context in
            let record = try await managedTenant(context)
            let change = try await request.decode(as: Change.self, context: context)
            let update = TenantChange(name: change.name, slug: change.slug, status: try change.status.map(TenantChange.status))
            let updated = try await lifecycle.update(record.id, update)
            await unknownTenants.remove(updated.slug)
            return TenantView(updated)
        }
        group.delete("tenants/{slug}") { request, context in
            let record = try await managedTenant(context)
            try requireSuperadmin(context, to: "delete tenants")
            guard request.uri.queryParameters.get("confirm") == record.slug else {
                throw APIError.badRequest("deleting tenant '\(record.slug)' drops its database and cannot be undone",
                                          hint: "Confirm by repeating the slug: DELETE /admin/api/tenants/\(record.slug)?confirm=\(record.slug)")
            }
            try await lifecycle.delete(record.id)
            return Response(status: .noContent)
        }
        group.get("tenants/{slug}/credentials") { _, context in
            let record = try await managedTenant(context)
            let credentials = try await lifecycle.credentials(slug: record.slug)
            return CredentialsView(adminEmail: credentials.adminEmail, adminPassword: credentials.adminPassword,
                                   roleName: credentials.roleName, databaseName: credentials.databaseName,
                                   conninfo: credentials.conninfo)
        }
        group.post("tenants/{slug}/test") { _, context in
            let record = try await managedTenant(context)
            guard record.status == .active else {
                throw PlatformError(.tenantNotActive, "tenant '\(record.slug)' is \(record.status.rawValue): its role may not log in",
                                    hint: "Resume it first (status active), then test the connection.")
            }
            do {
                let test = try await lifecycle.test(slug: record.slug)
                return ConnectionTestView(ok: true, latencyMs: test.latency.seconds * 1000, schemaVersion: test.schemaVersion,
                                          serverVersion: test.serverVersion, databaseSizeBytes: test.databaseSizeBytes, error: nil)
            } catch {
                // The answer to "can the tenant connect?" is the result, not a failed request:
                // the server's reason, without libpq's preamble naming hosts and socket paths.
                return ConnectionTestView(ok: false, latencyMs: nil, schemaVersion: nil, serverVersion: nil,
                                          databaseSizeBytes: nil, error: Self.reason(error))
            }
        }
    }

    /// The list's filters: `q` (in name or slug), `status`, `organization` (an id, or `none`),
    /// `server` (a name), `page` and `per_page`; a regular admin's grants always apply.
    static func search(_ query: QueryParameters, admin: AdminUser) throws -> TenantSearch {
        var search = TenantSearch(page: try query.integer("page", default: 1, in: 1...1_000_000),
                                  perPage: try query.integer("per_page", default: 50, in: 1...500))
        search.text = try query.text("q")
        search.status = try query.choice("status", of: TenantRecord.Status.allCases.map(\.rawValue)).flatMap(TenantRecord.Status.init)
        if let organization = try query.text("organization") {
            guard organization == "none" || UUID(uuidString: organization) != nil else {
                throw APIError.invalidParameter("organization", "must be an organization id or none")
            }
            search.organization = UUID(uuidString: organization).map { .id(OrganizationID($0)) } ?? TenantSearch.OrganizationFilter.none
        }
        search.server = try query.text("server")
        search.within = admin.isSuperadmin ? nil : admin.tenantIDs
        return search
    }

    /// The server's reason, for the page (see ``DatabaseFailure``).
    static func reason(_ error: any Error) -> String {
        DatabaseFailure.reason(error)
    }

    /// The tenant named in the path, if this admin may manage it; 404 otherwise.
    private func managedTenant(_ context: PortalContext) async throws -> TenantHandle {
        let admin = try context.requireAdmin()
        let slug = try context.parameters.require("slug")
        guard let tenant = try await platform.directory.find(slug: slug), admin.manages(tenant: tenant.id) else {
            throw PlatformError(.unknownTenant, "no tenant '\(slug)'", hint: "GET /admin/api/tenants lists the tenants you manage.")
        }
        return tenant
    }
}

extension Duration {
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
