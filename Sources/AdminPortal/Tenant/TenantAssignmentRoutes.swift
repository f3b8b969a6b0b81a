import Hummingbird
import Permissions

/// `/t/{slug}/api/assignments`: who holds which set or code in the tenant. An assignment names
/// exactly one grantee (`user_id` or `user_group_id`) and exactly one grant (`perm_set_code` or
/// `perm_code`), in the body to assign and in the query to unassign.
struct TenantAssignmentRoutes {
    let work: TenantWork

    struct Fields: Decodable {
        let userId: UserID?
        let userGroupId: UserGroupID?
        let permSetCode: String?
        let permCode: String?

        /// The grantee and grant the fields name; 400 QI004 unless exactly one of each is given.
        func parts() throws -> (Grantee, Grant) {
            let grantee: Grantee, grant: Grant
            switch (userId, userGroupId) {
            case (let user?, nil): grantee = .user(user)
            case (nil, let group?): grantee = .group(group)
            default: throw Self.invalid("exactly one of user_id and user_group_id")
            }
            switch (permSetCode, permCode) {
            case (let set?, nil): grant = .permSet(set)
            case (nil, let code?): grant = .permission(code)
            default: throw Self.invalid("exactly one of perm_set_code and perm_code")
            }
            return (grantee, grant)
        }

        private static func invalid(_ rule: String) -> APIError {
            APIError(status: .badRequest, code: PermissionsError.Code.invalidAssignment.sqlState.rawValue,
                     message: "an assignment names \(rule)",
                     hint: "Give a user_id or a user_group_id, and a perm_set_code or a perm_code.")
        }
    }

    struct Created: ResponseEncodable {
        let assignmentId: APIID
        let userId: APIID?
        let userGroupId: APIID?
        let permSetCode: String?
        let permCode: String?
    }

    func register(on group: RouterGroup<PortalContext>) {
        // Filters combine: `user_id` (the user's own assignments, not those of their groups),
        // `user_group_id`, `perm_set_code`.
        group.get("assignments") { request, context in
            let page = try PageRequest(request)
            let after = try page.afterCreation(AssignmentID.self)
            let user = try request.idParameter(UserID.self, "user_id")
            let userGroup = try request.idParameter(UserGroupID.self, "user_group_id")
            let permSet = request.uri.queryParameters.get("perm_set_code")
            let assignments = try await work.run(context, requiring: TenantAPICode.viewPermissions) { auth, session in
                try await auth.listAssignments(tenant: session.tenant, user: user, group: userGroup, permSet: permSet,
                                               pageSize: page.limit, after: after)
            }
            return Page(assignments.map(AssignmentView.init), of: page, key: \.cursorKey)
        }
        group.post("assignments") { request, context in
            let fields = try await request.decode(as: Fields.self, context: context)
            let (grantee, grant) = try fields.parts()
            let id = try await work.run(context, requiring: TenantAPICode.assignPermissions) { auth, session in
                try await auth.assignPermission(tenant: session.tenant, to: grantee, grant: grant)
            }
            return EditedResponse(status: .created, response: Created(
                assignmentId: APIID(id), userId: fields.userId.map(APIID.init), userGroupId: fields.userGroupId.map(APIID.init),
                permSetCode: fields.permSetCode, permCode: fields.permCode))
        }
        group.delete("assignments") { request, context in
            let query = request.uri.queryParameters
            let fields = Fields(userId: try request.idParameter(UserID.self, "user_id"),
                                userGroupId: try request.idParameter(UserGroupID.self, "user_group_id"),
                                permSetCode: query.get("perm_set_code"), permCode: query.get("perm_code"))
            let (grantee, grant) = try fields.parts()
            try await work.run(context, requiring: TenantAPICode.assignPermissions) { auth, session in
                try await auth.unassignPermission(tenant: session.tenant, from: grantee, grant: grant)
            }
            return Response(status: .noContent)
        }
    }
}
