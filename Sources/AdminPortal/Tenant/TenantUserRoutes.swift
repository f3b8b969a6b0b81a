import Hummingbird
import Permissions

/// `/t/{slug}/api/users`: the tenant's members. Each route is one unit of work in the tenant's
/// database under the code it requires (``TenantAPICode``); a user who is not a member of this
/// tenant is unknown here (404 QN006), whatever else the database holds.
struct TenantUserRoutes {
    let work: TenantWork
    let sessions: TenantSessions

    struct NewUser: Decodable {
        let username: String
        let email: String?
        let displayName: String?
        /// Optional: without one, the user cannot sign in with a password until one is set.
        let password: String?
    }

    /// Fields left out stay as they are; an empty email or display name clears it.
    struct Change: Decodable {
        let username: String?
        let email: String?
        let displayName: String?
    }

    struct NewPassword: Decodable {
        let password: String
    }

    func register(on group: RouterGroup<PortalContext>) {
        group.get("users") { request, context in
            let page = try PageRequest(request)
            let search = request.uri.queryParameters.get("search")
            let isActive = try request.booleanParameter("is_active")
            let users = try await work.run(context, requiring: TenantAPICode.viewUsers) { auth, session in
                try await auth.listTenantUsers(session.tenant, search: search, isActive: isActive,
                                               pageSize: page.limit, after: page.after)
            }
            return Page(users.map(UserView.init), of: page, key: \.username)
        }
        group.post("users") { request, context in
            let new = try await request.decode(as: NewUser.self, context: context)
            let user = try await work.run(context, requiring: TenantAPICode.createUsers) { auth, session in
                let user = try await auth.createUser(username: new.username, email: new.email, displayName: new.displayName)
                try await auth.addUserToTenant(session.tenant, user: user)
                if let password = new.password { try await auth.setUserPassword(user, password: password) }
                return try await auth.tenantUser(session.tenant, user: user)
            }
            return Tagged(value: UserView(user), status: .created, location: "users/\(user.userID)")
        }
        group.get("users/{user_id}") { _, context in
            let id = try context.id(UserID.self, "user_id")
            let user = try await work.run(context, requiring: TenantAPICode.viewUsers) { auth, session in
                try await auth.tenantUser(session.tenant, user: id)
            }
            return Tagged(value: UserView(user))
        }
        group.patch("users/{user_id}") { request, context in
            let id = try context.id(UserID.self, "user_id")
            let change = try await request.decode(as: Change.self, context: context)
            return Tagged(value: try await edit(id, request, context, requiring: TenantAPICode.updateUsers) { auth, _ in
                try await auth.updateUser(id, username: change.username, email: change.email, displayName: change.displayName)
            })
        }
        group.post("users/{user_id}/deactivate") { request, context in
            let id = try context.id(UserID.self, "user_id")
            return Tagged(value: try await edit(id, request, context, requiring: TenantAPICode.deactivateUsers) { auth, session in
                try Self.refuseSelf(id, session, "deactivate")
                try await auth.deactivateUser(id)
            })
        }
        // Live again: the user, and their membership when it was removed softly.
        group.post("users/{user_id}/activate") { request, context in
            let id = try context.id(UserID.self, "user_id")
            return Tagged(value: try await edit(id, request, context, requiring: TenantAPICode.deactivateUsers) { auth, session in
                try await auth.activateUser(id)
                if try await !auth.tenantUser(session.tenant, user: id).isActive {
                    try await auth.addUserToTenant(session.tenant, user: id)
                }
            })
        }
        group.put("users/{user_id}/password") { request, context in
            let id = try context.id(UserID.self, "user_id")
            let new = try await request.decode(as: NewPassword.self, context: context)
            try await work.run(context, requiring: TenantAPICode.updateUsers) { auth, session in
                _ = try await auth.tenantUser(session.tenant, user: id)
                try Self.refuseSelf(id, session, "set the password of",
                                    hint: "Change your own at PUT /t/\(session.slug)/api/session/password, with your current password.")
                try await auth.setUserPassword(id, password: new.password)
            }
            // A reset is often for a password someone else knows: what it opened ends.
            try await sessions.endSessions(of: id, in: try context.requireTenantUser())
            return Response(status: .noContent)
        }
        // Soft by default: the membership is deactivated and kept (its history, a later
        // activation). `?hard=true&confirm=<username>` deletes it with the user's groups,
        // ownerships and assignments in this tenant.
        group.delete("users/{user_id}") { request, context in
            let id = try context.id(UserID.self, "user_id")
            let hard = try request.booleanParameter("hard") ?? false
            try await work.run(context, requiring: TenantAPICode.deactivateUsers, editing: "user:\(id)") { auth, session in
                let user = try await auth.tenantUser(session.tenant, user: id)
                try EntityTag.check(request, current: UserView(user), what: "user")
                try Self.refuseSelf(id, session, "remove")
                if hard, request.uri.queryParameters.get("confirm") != user.username {
                    throw APIError(status: .badRequest, code: "not_confirmed",
                                   message: "removing '\(user.username)' for good deletes their groups, ownerships and assignments in this tenant",
                                   hint: "Confirm with the username in \"confirm\", or leave out \"hard\" to deactivate the membership only.")
                }
                try await auth.removeUserFromTenant(session.tenant, user: id, hard: hard)
            }
            return Response(status: .noContent)
        }
    }

    /// An administrator never acts on themself through these routes: their own deactivation or
    /// removal would end the session that makes it and could leave the tenant with nobody to
    /// undo it, and resetting their own password or second factor would let a stolen session
    /// take the account over for good (the member's own routes ask for proof instead).
    static func refuseSelf(_ id: UserID, _ session: TenantUserSession, _ action: String,
                           hint: String = "Ask another administrator of the tenant to do it.") throws {
        guard id == session.user else { return }
        throw APIError(status: .conflict, code: "cannot_change_self", message: "you cannot \(action) yourself", hint: hint)
    }

    /// A change to one member: under the member's edit lock, refused with 412 when `If-Match`
    /// names another version than the current one; returns the member as it is after.
    private func edit(_ id: UserID, _ request: Request, _ context: PortalContext, requiring code: String,
                      _ change: (AuthClient, TenantUserSession) async throws -> Void) async throws -> UserView {
        try await work.run(context, requiring: code, editing: "user:\(id)") { auth, session in
            try EntityTag.check(request, current: UserView(try await auth.tenantUser(session.tenant, user: id)), what: "user")
            try await change(auth, session)
            return UserView(try await auth.tenantUser(session.tenant, user: id))
        }
    }
}
