import Hummingbird
import Permissions

/// `/t/{slug}/api/perm-sets`: the tenant's permission sets, by code, and the codes in each;
/// `/t/{slug}/api/perm-set-templates`: the templates a tenant copies its sets from.
struct TenantPermSetRoutes {
    let work: TenantWork

    struct NewSet: Decodable {
        let code: String
        let name: String
        let description: String?
        /// Codes of the catalogue to put in the set at once.
        let permCodes: [String]?
    }

    /// Copy of a template set (`auth.duplicate_perm_set`), by the template's code.
    struct FromTemplate: Decodable {
        let templateCode: String
    }

    /// Fields left out stay as they are; an empty description clears it. The code never changes.
    struct Change: Decodable {
        let name: String?
        let description: String?
    }

    struct Codes: Decodable {
        let permCodes: [String]
    }

    func register(on group: RouterGroup<PortalContext>) {
        group.get("perm-sets") { request, context in
            let page = try PageRequest(request)
            let sets = try await work.run(context, requiring: TenantAPICode.viewPermissions) { auth, session in
                try await auth.listPermSets(tenant: session.tenant, pageSize: page.limit, after: page.after)
            }
            return Page(sets.map(PermSetView.init), of: page, key: \.code)
        }
        group.get("perm-set-templates") { request, context in
            let page = try PageRequest(request)
            let sets = try await work.run(context, requiring: TenantAPICode.viewPermissions) { auth, _ in
                try await auth.listPermSets(tenant: nil, pageSize: page.limit, after: page.after)
            }
            return Page(sets.map(PermSetView.init), of: page, key: \.code)
        }
        group.post("perm-sets") { request, context in
            let new = try await request.decode(as: NewSet.self, context: context)
            let created = try await work.run(context, requiring: TenantAPICode.assignPermissions) { auth, session in
                _ = try await auth.createPermSet(tenant: session.tenant, code: new.code, name: new.name, description: new.description)
                if let codes = new.permCodes, !codes.isEmpty {
                    try await auth.addPermSetPermissions(tenant: session.tenant, permSet: new.code, codes: codes)
                }
                return try await auth.permSet(tenant: session.tenant, code: new.code)
            }
            return Tagged(value: PermSetView(created), status: .created, location: "perm-sets/\(created.code)")
        }
        group.post("perm-sets/from-template") { request, context in
            let source = try await request.decode(as: FromTemplate.self, context: context)
            let created = try await work.run(context, requiring: TenantAPICode.assignPermissions) { auth, session in
                _ = try await auth.duplicatePermSet(from: nil, to: session.tenant, code: source.templateCode)
                return try await auth.permSet(tenant: session.tenant, code: source.templateCode)
            }
            return Tagged(value: PermSetView(created), status: .created, location: "perm-sets/\(created.code)")
        }
        group.get("perm-sets/{code}") { _, context in
            let code = try context.parameters.require("code")
            let found = try await work.run(context, requiring: TenantAPICode.viewPermissions) { auth, session in
                try await auth.permSet(tenant: session.tenant, code: code)
            }
            return Tagged(value: PermSetView(found))
        }
        group.patch("perm-sets/{code}") { request, context in
            let code = try context.parameters.require("code")
            let change = try await request.decode(as: Change.self, context: context)
            return Tagged(value: try await edit(code, request, context) { auth, session in
                try await auth.updatePermSet(tenant: session.tenant, code: code, name: change.name, description: change.description)
            })
        }
        // An assigned set is refused (409 QS004, naming its grantees) unless `?force=true`,
        // which removes its assignments with it.
        group.delete("perm-sets/{code}") { request, context in
            let code = try context.parameters.require("code")
            let force = try request.booleanParameter("force") ?? false
            try await work.run(context, requiring: TenantAPICode.assignPermissions, editing: "perm-set:\(code)") { auth, session in
                try EntityTag.check(request, current: PermSetView(try await auth.permSet(tenant: session.tenant, code: code)),
                                    what: "permission set")
                try await auth.deletePermSet(tenant: session.tenant, code: code, force: force)
            }
            return Response(status: .noContent)
        }

        group.get("perm-sets/{code}/permissions") { request, context in
            let code = try context.parameters.require("code")
            let page = try PageRequest(request)
            let entries = try await work.run(context, requiring: TenantAPICode.viewPermissions) { auth, session in
                try await auth.listPermSetPermissions(tenant: session.tenant, permSet: code, pageSize: page.limit, after: page.after)
            }
            return Page(entries.map { CatalogueNodeView($0) }, of: page, key: \.permCode)
        }
        // Adds codes; those already in the set stay (the result holds). Returns the set after.
        group.post("perm-sets/{code}/permissions") { request, context in
            let code = try context.parameters.require("code")
            let codes = try await request.decode(as: Codes.self, context: context)
            return Tagged(value: try await edit(code, request, context) { auth, session in
                try await auth.addPermSetPermissions(tenant: session.tenant, permSet: code, codes: codes.permCodes)
            })
        }
        group.delete("perm-sets/{code}/permissions/{perm_code}") { request, context in
            let code = try context.parameters.require("code"), permCode = try context.parameters.require("perm_code")
            return Tagged(value: try await edit(code, request, context) { auth, session in
                try await auth.removePermSetPermissions(tenant: session.tenant, permSet: code, codes: [permCode])
            })
        }
    }

    /// A change to one set under its edit lock, refused with 412 when `If-Match` names another
    /// version; returns the set as it is after.
    private func edit(_ code: String, _ request: Request, _ context: PortalContext,
                      _ change: (AuthClient, TenantUserSession) async throws -> Void) async throws -> PermSetView {
        try await work.run(context, requiring: TenantAPICode.assignPermissions, editing: "perm-set:\(code)") { auth, session in
            try EntityTag.check(request, current: PermSetView(try await auth.permSet(tenant: session.tenant, code: code)),
                                what: "permission set")
            try await change(auth, session)
            return PermSetView(try await auth.permSet(tenant: session.tenant, code: code))
        }
    }
}
