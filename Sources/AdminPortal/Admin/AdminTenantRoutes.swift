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
        let error: String?
    }

    func register(on group: RouterGroup<PortalContext>) {
        let lifecycle = TenantLifecycle(platform: platform)

        group.get("tenants") { _, context in
            let admin = try context.requireAdmin()
            return try await platform.directory.all()
                .filter { admin.manages(tenant: $0.id) }
                .map(TenantView.init)
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
                                          serverVersion: test.serverVersion, error: nil)
            } catch {
                // The answer to "can the tenant connect?" is the result, not a failed request:
                // the server's reason, without libpq's preamble naming hosts and socket paths.
                return ConnectionTestView(ok: false, latencyMs: nil, schemaVersion: nil, serverVersion: nil,
                                          error: Self.reason(error))
            }
        }
    }

    /// "connection to server on socket "/tmp/.s.PGSQL.5432" failed: FATAL:  password authentication
    /// failed for user ..." → "password authentication failed for user ...".
    static func reason(_ error: any Error) -> String {
        var text = (error as? PostgresError)?.message ?? "\(error)"
        if let range = text.range(of: "failed: ") { text = String(text[range.upperBound...]) }
        for prefix in ["FATAL:", "ERROR:"] where text.hasPrefix(prefix) {
            text = String(text.dropFirst(prefix.count))
        }
        return text.split(separator: "\n").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? text
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

    private func requireSuperadmin(_ context: PortalContext, to action: String) throws {
        guard try context.requireAdmin().isSuperadmin else {
            throw APIError.forbidden("only superadmins may \(action)", hint: "Ask a superadmin.")
        }
    }
}

extension Duration {
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
