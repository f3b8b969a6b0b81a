import Foundation
import Hummingbird
import TenantPlatform

/// `GET /admin/api/audit`: the platform audit log, newest first, filtered by `admin` (an
/// email), `tenant` (a slug), `action` (`tenant.delete`, or a family: `tenant.`), paged with
/// `before` (the `next_before` of the previous page) and `limit`. A regular admin reads the
/// rows of the tenants it manages only.
struct AdminAuditRoutes {
    let platform: Platform

    struct EntryView: ResponseEncodable {
        let id: Int64
        let occurredAt: Date
        let actor: String
        let action: String
        let tenantSlug: String?
        let details: [String: String]
    }

    struct PageView: ResponseEncodable {
        let entries: [EntryView]
        /// Pass as `before` for the next page; null on the last one.
        let nextBefore: Int64?
    }

    func register(on group: RouterGroup<PortalContext>) {
        group.get("audit") { request, context in
            let admin = try context.requireAdmin()
            let parameters = QueryParameters(request)
            let limit = try parameters.integer("limit", default: 50, in: 1...500)
            let query = AuditQuery(actor: try parameters.text("admin"), tenant: try parameters.text("tenant"),
                                   action: try parameters.text("action"), within: admin.isSuperadmin ? nil : admin.tenantIDs,
                                   before: Int64(try parameters.integer("before", default: Int.max, in: 1...Int.max)),
                                   limit: limit + 1)
            let entries = try await platform.auditLog(query)
            let page = entries.prefix(limit).map {
                EntryView(id: $0.id, occurredAt: $0.occurredAt, actor: $0.actor, action: $0.action, tenantSlug: $0.tenantSlug,
                          details: $0.details)
            }
            return PageView(entries: page, nextBefore: entries.count > limit ? page.last?.id : nil)
        }
    }
}
