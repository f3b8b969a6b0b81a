import Hummingbird
import Permissions

/// `/t/{slug}/api/groups`: the tenant's user groups, their members and their owners. Owning a
/// group gives rights over that group only: an owner adds and removes its members without
/// `groups.manage`, and is granted no permission by it.
struct TenantGroupRoutes {
    let work: TenantWork

    struct NewGroup: Decodable {
        let code: String
        let name: String
    }

    /// Fields left out stay as they are.
    struct Change: Decodable {
        let code: String?
        let name: String?
    }

    func register(on group: RouterGroup<PortalContext>) {
        group.get("groups") { request, context in
            let page = try PageRequest(request)
            let groups = try await work.run(context, requiring: TenantAPICode.viewGroups) { auth, session in
                try await auth.listUserGroups(tenant: session.tenant, pageSize: page.limit, after: page.after)
            }
            return Page(groups.map(GroupView.init), of: page, key: \.code)
        }
        group.post("groups") { request, context in
            let new = try await request.decode(as: NewGroup.self, context: context)
            let created = try await work.run(context, requiring: TenantAPICode.manageGroups) { auth, session in
                let id = try await auth.createUserGroup(tenant: session.tenant, code: new.code, name: new.name)
                return try await auth.userGroup(tenant: session.tenant, group: id)
            }
            return Tagged(value: GroupView(created), status: .created, location: "groups/\(created.id)")
        }
        group.get("groups/{group_id}") { _, context in
            let id = try context.id(UserGroupID.self, "group_id")
            let found = try await work.run(context, requiring: TenantAPICode.viewGroups) { auth, session in
                try await auth.userGroup(tenant: session.tenant, group: id)
            }
            return Tagged(value: GroupView(found))
        }
        group.patch("groups/{group_id}") { request, context in
            let id = try context.id(UserGroupID.self, "group_id")
            let change = try await request.decode(as: Change.self, context: context)
            return Tagged(value: try await edit(id, request, context) { auth, session in
                try await auth.updateUserGroup(tenant: session.tenant, group: id, code: change.code, name: change.name)
            })
        }
        group.post("groups/{group_id}/deactivate") { request, context in
            let id = try context.id(UserGroupID.self, "group_id")
            return Tagged(value: try await edit(id, request, context) { auth, session in
                try await auth.deactivateUserGroup(tenant: session.tenant, group: id)
            })
        }
        group.post("groups/{group_id}/activate") { request, context in
            let id = try context.id(UserGroupID.self, "group_id")
            return Tagged(value: try await edit(id, request, context) { auth, session in
                try await auth.activateUserGroup(tenant: session.tenant, group: id)
            })
        }
        group.delete("groups/{group_id}") { request, context in
            let id = try context.id(UserGroupID.self, "group_id")
            try await work.run(context, requiring: TenantAPICode.manageGroups, editing: "group:\(id)") { auth, session in
                try EntityTag.check(request, current: GroupView(try await auth.userGroup(tenant: session.tenant, group: id)),
                                    what: "group")
                try await auth.deleteUserGroup(tenant: session.tenant, group: id)
            }
            return Response(status: .noContent)
        }

        group.get("groups/{group_id}/members") { request, context in
            let id = try context.id(UserGroupID.self, "group_id")
            let page = try PageRequest(request)
            let members = try await work.run(context, requiring: TenantAPICode.viewGroups) { auth, session in
                try await auth.listGroupMembers(tenant: session.tenant, group: id, pageSize: page.limit, after: page.after)
            }
            return Page(members.map(GroupMemberView.init), of: page, key: \.username)
        }
        group.put("groups/{group_id}/members/{user_id}") { _, context in
            let id = try context.id(UserGroupID.self, "group_id"), user = try context.id(UserID.self, "user_id")
            try await work.run(context, requiring: nil) { auth, session in
                try await requireManagerOrOwner(auth, session, of: id)
                // Already a member: 409 QD007, as auth.add_user_to_group answers.
                try await auth.addUserToGroup(tenant: session.tenant, group: id, user: user)
            }
            return Response(status: .noContent)
        }
        group.delete("groups/{group_id}/members/{user_id}") { _, context in
            let id = try context.id(UserGroupID.self, "group_id"), user = try context.id(UserID.self, "user_id")
            try await work.run(context, requiring: nil) { auth, session in
                try await requireManagerOrOwner(auth, session, of: id)
                try await auth.removeUserFromGroup(tenant: session.tenant, group: id, user: user)
            }
            return Response(status: .noContent)
        }

        group.get("groups/{group_id}/owners") { request, context in
            let id = try context.id(UserGroupID.self, "group_id")
            let page = try PageRequest(request)
            let owners = try await work.run(context, requiring: TenantAPICode.viewGroups) { auth, session in
                try await auth.listGroupOwners(tenant: session.tenant, group: id, pageSize: page.limit, after: page.after)
            }
            return Page(owners.map(GroupMemberView.init), of: page, key: \.username)
        }
        group.put("groups/{group_id}/owners/{user_id}") { _, context in
            let id = try context.id(UserGroupID.self, "group_id"), user = try context.id(UserID.self, "user_id")
            try await work.run(context, requiring: TenantAPICode.manageGroups) { auth, session in
                try await auth.assignGroupOwner(tenant: session.tenant, group: id, user: user)
            }
            return Response(status: .noContent)
        }
        group.delete("groups/{group_id}/owners/{user_id}") { _, context in
            let id = try context.id(UserGroupID.self, "group_id"), user = try context.id(UserID.self, "user_id")
            try await work.run(context, requiring: TenantAPICode.manageGroups) { auth, session in
                try await auth.removeGroupOwner(tenant: session.tenant, group: id, user: user)
            }
            return Response(status: .noContent)
        }
    }

    /// Members are managed by whoever holds `groups.manage`, and by the group's owners.
    private func requireManagerOrOwner(_ auth: AuthClient, _ session: TenantUserSession, of group: UserGroupID) async throws {
        // The session's own access is live: the authenticator checked it for this request.
        if try await auth.isGroupOwner(tenant: session.tenant, group: group, user: session.user) { return }
        try await auth.requirePermission(tenant: session.tenant, user: session.user, code: TenantAPICode.manageGroups)
    }

    /// A change to one group under its edit lock, refused with 412 when `If-Match` names
    /// another version; returns the group as it is after.
    private func edit(_ id: UserGroupID, _ request: Request, _ context: PortalContext,
                      _ change: (AuthClient, TenantUserSession) async throws -> Void) async throws -> GroupView {
        try await work.run(context, requiring: TenantAPICode.manageGroups, editing: "group:\(id)") { auth, session in
            try EntityTag.check(request, current: GroupView(try await auth.userGroup(tenant: session.tenant, group: id)),
                                what: "group")
            try await change(auth, session)
            return GroupView(try await auth.userGroup(tenant: session.tenant, group: id))
        }
    }
}
