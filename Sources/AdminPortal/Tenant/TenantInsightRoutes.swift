import Hummingbird
import Permissions

/// What an administrator reads to understand the tenant: the catalogue as a tree, a member's
/// effective permissions and why they hold a code (or why not), the tenant's statistics and its
/// audit log.
struct TenantInsightRoutes {
    let work: TenantWork

    struct EffectiveView: ResponseEncodable {
        let userId: APIID
        let permCodes: [String]
    }

    struct ExplainView: ResponseEncodable {
        let userId: APIID
        let permCode: String
        let granted: Bool
        /// Every path that grants the code; when none does, one row with the reason.
        let paths: [ExplanationView]
    }

    func register(on group: RouterGroup<PortalContext>) {
        // The whole catalogue, read page by page in one transaction (it is small: codes, not data).
        group.get("catalogue") { _, context in
            let entries = try await work.run(context, requiring: TenantAPICode.viewPermissions) { auth, _ in
                var entries: [CatalogueEntry] = []
                while true {
                    let page = try await auth.listPermissions(pageSize: PageRequest.maximumLimit, after: entries.last?.code)
                    entries += page
                    if page.count < PageRequest.maximumLimit { return entries }
                }
            }
            return ["permissions": CatalogueNodeView.tree(entries)]
        }
        group.get("users/{user_id}/permissions") { _, context in
            let user = try context.id(UserID.self, "user_id")
            let codes = try await work.run(context, requiring: TenantAPICode.viewPermissions) { auth, session in
                _ = try await auth.tenantUser(session.tenant, user: user)
                return try await auth.userPermissions(tenant: session.tenant, user: user)
            }
            return EffectiveView(userId: APIID(user), permCodes: codes)
        }
        group.get("users/{user_id}/permissions/{code}") { _, context in
            let user = try context.id(UserID.self, "user_id"), code = try context.parameters.require("code")
            let rows = try await work.run(context, requiring: TenantAPICode.viewPermissions) { auth, session in
                _ = try await auth.tenantUser(session.tenant, user: user)
                return try await auth.explainPermission(tenant: session.tenant, user: user, code: code)
            }
            return ExplainView(userId: APIID(user), permCode: code, granted: rows.contains(where: \.granted),
                               paths: rows.map(ExplanationView.init))
        }
        group.get("statistics") { _, context in
            let statistics = try await work.run(context, requiring: TenantAPICode.viewSettings) { auth, session in
                try await auth.tenantStatistics(session.tenant)
            }
            return StatisticsView(statistics)
        }
        // Newest first. `action` keeps one action (`user_info.update`) or every action on a
        // table (`user_info`); `actor_user_id` what one user did. The tenant's database is its
        // own, so its rows without a tenant (users, passwords, the catalogue) are included.
        group.get("audit-log") { request, context in
            let page = try PageRequest(request)
            let before = try page.after.map { key in
                guard let id = Int64(key) else {
                    throw APIError.invalidParameter("after", "is not a cursor of this list",
                                                    hint: "Pass the \"next\" of the previous page of the audit log unchanged.")
                }
                return id
            }
            let action = request.uri.queryParameters.get("action")
            let actor = try request.idParameter(UserID.self, "actor_user_id")
            let entries = try await work.run(context, requiring: TenantAPICode.administerTenant) { auth, session in
                try await auth.listAuditLog(tenant: session.tenant, includeGlobal: true, action: action, actor: actor,
                                            pageSize: page.limit, before: before)
            }
            return Page(try entries.map(AuditEntryView.init), of: page) { String($0.auditId) }
        }
    }
}
