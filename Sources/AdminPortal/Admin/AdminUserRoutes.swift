import Foundation
import Hummingbird
import TenantPlatform

/// `/admin/api/admin-users`: the Admin Users tab, for superadmins only (403 to a regular
/// admin, whatever the route). An admin user is named in the path by its id or its email.
/// The platform refuses to delete, deactivate or demote the last active superadmin; these
/// routes also refuse an admin deleting or deactivating themself.
struct AdminUserRoutes {
    let platform: Platform

    /// Without a password one is generated and answered once.
    struct NewAdminUser: Decodable {
        let email: String
        let role: String
        let password: String?
    }

    struct Change: Decodable {
        let role: String?
        let isActive: Bool?
    }

    struct NewPassword: Decodable {
        let password: String?
    }

    struct CreatedView: ResponseEncodable {
        let adminUser: AdminUserView
        let generatedPassword: String?
    }

    struct PasswordView: ResponseEncodable {
        let generatedPassword: String?
    }

    func register(on group: RouterGroup<PortalContext>) {
        let admins = platform.adminUsers

        group.get("admin-users") { _, context in
            try requireSuperadmin(context, to: "list admin users")
            return try await admins.all().map(AdminUserView.init)
        }
        group.post("admin-users") { request, context in
            try requireSuperadmin(context, to: "create admin users")
            let new = try await request.decode(as: NewAdminUser.self, context: context)
            let role = try Self.role(new.role)
            if let password = new.password { try SignInFields.checkPassword(password) }
            let created = try await admins.create(email: new.email, password: new.password, superadmin: role == .superadmin)
            return EditedResponse(status: .created, response: CreatedView(adminUser: AdminUserView(created.user),
                                                                         generatedPassword: created.generatedPassword))
        }
        group.get("admin-users/{admin}") { _, context in
            try requireSuperadmin(context, to: "read admin users")
            return AdminUserView(try await target(context))
        }
        group.patch("admin-users/{admin}") { request, context in
            let me = try requireSuperadmin(context, to: "change admin users")
            let user = try await target(context)
            let change = try await request.decode(as: Change.self, context: context)
            let role = try change.role.map(Self.role)
            if change.isActive == false && user.id == me.id { throw Self.ownAccount("deactivate") }
            // One transaction: a refused half (the last superadmin) leaves the other undone too.
            return AdminUserView(try await admins.update(user.id.description, role: role, isActive: change.isActive))
        }
        group.delete("admin-users/{admin}") { _, context in
            let me = try requireSuperadmin(context, to: "delete admin users")
            let user = try await target(context)
            guard user.id != me.id else { throw Self.ownAccount("delete") }
            try await admins.delete(user.id.description)
            return Response(status: .noContent)
        }
        group.post("admin-users/{admin}/password") { request, context in
            try requireSuperadmin(context, to: "reset passwords")
            let user = try await target(context)
            let new = try await request.decode(as: NewPassword.self, context: context)
            if let password = new.password { try SignInFields.checkPassword(password) }
            return PasswordView(generatedPassword: try await admins.setPassword(user.id.description, password: new.password))
        }
        group.put("admin-users/{admin}/tenants/{slug}") { _, context in
            try requireSuperadmin(context, to: "grant tenants")
            let user = try await target(context)
            try await admins.grant(tenant: try context.parameters.require("slug"), to: user.id.description)
            return AdminUserView(try await admins.require(user.id.description))
        }
        group.delete("admin-users/{admin}/tenants/{slug}") { _, context in
            try requireSuperadmin(context, to: "revoke tenants")
            let user = try await target(context)
            try await admins.revoke(tenant: try context.parameters.require("slug"), from: user.id.description)
            return AdminUserView(try await admins.require(user.id.description))
        }
    }

    private func target(_ context: PortalContext) async throws -> AdminUser {
        try await platform.adminUsers.require(try context.parameters.require("admin"))
    }

    /// 409: an admin may not lock themself out.
    static func ownAccount(_ action: String) -> APIError {
        APIError(status: .conflict, code: "own_account", message: "you cannot \(action) your own admin user",
                 hint: "Ask another superadmin to do it.")
    }

    static func role(_ text: String) throws -> AdminUser.Role {
        guard let role = AdminUser.Role(rawValue: text) else {
            throw APIError.invalidField("role", "must be admin or superadmin")
        }
        return role
    }
}
