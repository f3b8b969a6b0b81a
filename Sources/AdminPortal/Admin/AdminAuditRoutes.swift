import Foundation
import Hummingbird
import TenantPlatform

/// `GET /admin/api/audit`: the platform audit log, newest first, filtered by `admin` (an
/// email), `tenant` (a slug, now or before a rename), `action` (`tenant.delete`, or a family:
/// `tenant.`), in keyset pages (``PageRequest``: `limit`, and `after` the previous page's
/// `next`). A regular admin reads the rows of the tenants it manages only.
struct AdminAuditRoutes {
    let platform: Platform

    struct EntryView: Encodable, Sendable {
        let id: Int64
        let occurredAt: Date
        let actor: String
        let action: String
        let tenantSlug: String?
        let details: [String: String]
    }

    func register(on group: RouterGroup<PortalContext>) {
        group.get("audit") { request, context in
            let admin = try context.requireAdmin()
            let page = try PageRequest(request)
            let parameters = QueryParameters(request)
            let before = try page.after.map { key in
                guard let id = Int64(key), id > 0 else {
                    throw APIError.invalidParameter("after", "is not a cursor of this list",
                                                    hint: "Pass the \"next\" of the previous page of this list unchanged.")
                }
                return id
            }
            let entries = try await platform.auditLog(AuditQuery(
                actor: try parameters.text("admin"), tenant: try parameters.text("tenant"), action: try parameters.text("action"),
                within: admin.isSuperadmin ? nil : admin.tenantIDs, before: before, limit: page.limit))
            let views = entries.map {
                EntryView(id: $0.id, occurredAt: $0.occurredAt, actor: $0.actor, action: $0.action, tenantSlug: $0.tenantSlug,
                          details: $0.details)
            }
            return Page(views, of: page) { String($0.id) }
        }
    }
}
