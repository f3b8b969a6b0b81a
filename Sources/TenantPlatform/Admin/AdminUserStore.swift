import Foundation
import PQ

/// Admin-portal users in the master database: create, list, delete, activate, and the
/// tenants a regular admin manages. Passwords are bcrypt hashes made by
/// `platform.create_admin_user`; sign-in and access checks are in `AdminUserStore+Access.swift`.
/// Every change is audited in the same transaction as the change.
///
/// Admin users are named by email (any case) or id (`reference`).
public struct AdminUserStore: Sendable {
    let platform: Platform

    public init(platform: Platform) {
        self.platform = platform
    }

    /// Creates an admin user.
    ///
    /// - Parameter password: nil generates one, returned once in ``CreatedAdminUser/generatedPassword``.
    /// - Throws: ``PlatformError`` `.invalidEmail`, `.weakPassword` (outside 8–72 bytes), or
    ///   `.adminUserExists` (emails compare case-insensitively).
    public func create(email: String, password: String?, superadmin: Bool) async throws -> CreatedAdminUser {
        let email = try EmailAddress.normalized(email)
        let generated = password == nil ? SecretGenerator.password() : nil
        return try await platform.changeMaster { tx in
            let id: UUID
            do {
                id = try await tx.query("SELECT platform.create_admin_user($1, $2, $3)",
                                        [email, password ?? generated!, superadmin]).scalar(UUID.self)
            } catch let error as PostgresError where error.code == "QI006" {
                throw Self.weakPassword
            } catch let error as PostgresError where error.code == "QD010" {
                throw PlatformError(.adminUserExists, "an admin user with email '\(email)' exists (emails compare case-insensitively)",
                                    hint: "`pgperm admin list` shows the admin users.")
            }
            try await tx.audit("admin_user.create", details: [
                "email": email, "admin_user_id": id.lowercased, "role": superadmin ? "superadmin" : "admin"])
            return CreatedAdminUser(user: try await Self.require(id.lowercased, on: tx), generatedPassword: generated)
        }
    }

    /// Every admin user with its tenants, by email.
    public func all() async throws -> [AdminUser] {
        try await platform.master.query("\(AdminUser.select) ORDER BY lower(a.email)").map(AdminUser.init(row:))
    }

    public func find(_ reference: String) async throws -> AdminUser? {
        try await Self.find(reference, on: platform.master)
    }

    /// The admin user, or ``PlatformError`` `.unknownAdminUser`.
    public func require(_ reference: String) async throws -> AdminUser {
        try await Self.require(reference, on: platform.master)
    }

    /// Deletes an admin user and its tenant grants.
    ///
    /// - Throws: ``PlatformError`` `.unknownAdminUser`, or `.lastSuperadmin` for the last
    ///   active superadmin.
    public func delete(_ reference: String) async throws {
        try await platform.changeMaster { tx in
            let user = try await Self.require(reference, on: tx, lock: true)
            try await Self.requireAnotherSuperadmin(besides: user, on: tx, toBe: "deleted")
            try await tx.query("DELETE FROM platform.admin_user WHERE admin_user_id = $1", [user.id])
            try await tx.audit("admin_user.delete", details: [
                "email": user.email, "admin_user_id": user.id.description, "role": user.role.rawValue])
        }
    }

    /// Replaces an admin user's password (`platform.set_admin_password`). Its portal sessions
    /// end in the same transaction (a trigger on `platform.admin_user`), and the change is
    /// audited as `admin_user.password`, without the password.
    ///
    /// - Parameter password: nil generates one, returned once.
    /// - Returns: the generated password, or nil when one was given.
    /// - Throws: ``PlatformError`` `.unknownAdminUser`, `.weakPassword` (outside 8–72 bytes).
    @discardableResult
    public func setPassword(_ reference: String, password: String?) async throws -> String? {
        let generated = password == nil ? SecretGenerator.password() : nil
        try await platform.changeMaster { tx in
            let user = try await Self.require(reference, on: tx, lock: true)
            do {
                try await tx.query("SELECT platform.set_admin_password($1, $2)", [user.id, password ?? generated!])
            } catch let error as PostgresError where error.code == "QI006" {
                throw Self.weakPassword
            }
            try await tx.audit("admin_user.password", details: [
                "email": user.email, "admin_user_id": user.id.description])
        }
        return generated
    }

    static let weakPassword = PlatformError(
        .weakPassword, "the password is too short or too long: admin passwords need 8 to 72 bytes",
        hint: "Use a longer passphrase, or leave the password out to have one generated.")

    /// Allows or refuses the admin user's sign-in; its record and grants stay.
    ///
    /// - Throws: ``PlatformError`` `.unknownAdminUser`, or `.lastSuperadmin` when deactivating
    ///   the last active superadmin.
    public func setActive(_ reference: String, _ active: Bool) async throws {
        _ = try await update(reference, isActive: active)
    }

    /// Makes the admin user a superadmin or a regular admin. A superadmin made regular has no
    /// grants and manages nothing until granted tenants: its sessions end (a trigger on
    /// `platform.admin_user`).
    ///
    /// - Throws: ``PlatformError`` `.unknownAdminUser`, or `.lastSuperadmin` when demoting
    ///   the last active superadmin.
    public func setRole(_ reference: String, _ role: AdminUser.Role) async throws -> AdminUser {
        try await update(reference, role: role)
    }

    /// Changes the role and/or the activity of an admin user in one transaction: both apply,
    /// or (a refusal of either) neither does. Each change is audited as ``setRole(_:_:)`` and
    /// ``setActive(_:_:)`` audit it; a value already held changes nothing.
    ///
    /// - Throws: ``PlatformError`` `.unknownAdminUser`, or `.lastSuperadmin`.
    public func update(_ reference: String, role: AdminUser.Role? = nil, isActive: Bool? = nil) async throws -> AdminUser {
        try await platform.changeMaster { tx in
            var user = try await Self.require(reference, on: tx, lock: true)
            if let role, user.role != role {
                if role == .admin { try await Self.requireAnotherSuperadmin(besides: user, on: tx, toBe: "made a regular admin") }
                try await tx.query("UPDATE platform.admin_user SET is_superadmin = $2, updated_at = now() WHERE admin_user_id = $1",
                                   [user.id, role == .superadmin])
                try await tx.audit("admin_user.role", details: [
                    "email": user.email, "admin_user_id": user.id.description, "role": role.rawValue])
                user = try await Self.require(user.id.description, on: tx)
            }
            if let isActive, user.isActive != isActive {
                if !isActive { try await Self.requireAnotherSuperadmin(besides: user, on: tx, toBe: "deactivated") }
                try await tx.query("UPDATE platform.admin_user SET is_active = $2, updated_at = now() WHERE admin_user_id = $1",
                                   [user.id, isActive])
                try await tx.audit(isActive ? "admin_user.activate" : "admin_user.deactivate",
                                   details: ["email": user.email, "admin_user_id": user.id.description])
                user = try await Self.require(user.id.description, on: tx)
            }
            return user
        }
    }

    /// Refuses a change that would leave no active superadmin: every active superadmin's row
    /// is locked first, so two admins demoting each other at once cannot both pass.
    static func requireAnotherSuperadmin(besides user: AdminUser, on tx: MasterChange, toBe change: String) async throws {
        guard user.isSuperadmin && user.isActive else { return }
        let others = try await tx.query("""
            SELECT admin_user_id FROM platform.admin_user WHERE is_superadmin AND is_active FOR UPDATE
            """).rows.map { try $0.decode(AdminUserID.self, at: 0) }.filter { $0 != user.id }
        guard others.isEmpty else { return }
        throw PlatformError(.lastSuperadmin, "'\(user.email)' is the last active superadmin and cannot be \(change)",
                            hint: "Make another admin a superadmin first.")
    }

    /// Lets a regular admin manage a tenant. Granting it again changes nothing.
    ///
    /// - Returns: false when the tenant was already granted.
    /// - Throws: ``PlatformError`` `.unknownAdminUser`, `.unknownTenant`, or
    ///   `.superadminNotScoped`: superadmins manage every tenant, and a grant kept for one
    ///   would silently take effect if it were ever made a regular admin.
    @discardableResult
    public func grant(tenant slug: String, to reference: String) async throws -> Bool {
        try await platform.changeMaster { tx in
            let user = try await Self.require(reference, on: tx, lock: true)
            guard !user.isSuperadmin else {
                throw PlatformError(.superadminNotScoped, "'\(user.email)' is a superadmin and manages every tenant already",
                                    hint: "Grants apply to regular admins only.")
            }
            let tenant = try await TenantDirectory(master: tx).lock(slug: slug)
            let inserted = try await tx.query("""
                INSERT INTO platform.admin_user_tenant (admin_user_id, tenant_id) VALUES ($1, $2) ON CONFLICT DO NOTHING
                """, [user.id, tenant.id])
            guard inserted.affectedRows == 1 else { return false }
            try await tx.audit("admin_user.grant", tenant: tenant.record, details: [
                "email": user.email, "admin_user_id": user.id.description])
            return true
        }
    }

    /// Stops a regular admin from managing a tenant.
    ///
    /// - Throws: ``PlatformError`` `.unknownAdminUser`, `.unknownTenant`, or `.notAssigned`
    ///   when the tenant was not granted to it.
    public func revoke(tenant slug: String, from reference: String) async throws {
        try await platform.changeMaster { tx in
            let user = try await Self.require(reference, on: tx, lock: true)
            let tenant = try await TenantDirectory(master: tx).lock(slug: slug)
            let deleted = try await tx.query("DELETE FROM platform.admin_user_tenant WHERE admin_user_id = $1 AND tenant_id = $2",
                                             [user.id, tenant.id])
            guard deleted.affectedRows == 1 else {
                throw PlatformError(.notAssigned, "tenant '\(slug)' is not granted to '\(user.email)'",
                                    hint: user.isSuperadmin ? "Superadmins manage every tenant without grants." : "`pgperm admin list` shows the grants.")
            }
            try await tx.audit("admin_user.revoke", tenant: tenant.record, details: [
                "email": user.email, "admin_user_id": user.id.description])
        }
    }

    // MARK: - Lookups

    static func find(_ reference: String, on db: any QueryExecutor, lock: Bool = false) async throws -> AdminUser? {
        try await db.query("""
            \(AdminUser.select)
             WHERE lower(a.email) = lower($1) OR a.admin_user_id::text = lower($1)
             \(lock ? "FOR UPDATE OF a" : "")
            """, [reference.trimmingCharacters(in: .whitespaces)], prepared: false).rows.first.map(AdminUser.init(row:))
    }

    static func require(_ reference: String, on db: any QueryExecutor, lock: Bool = false) async throws -> AdminUser {
        if let user = try await find(reference, on: db, lock: lock) { return user }
        throw PlatformError(.unknownAdminUser, "no admin user has email or id '\(reference)'",
                            hint: "`pgperm admin list` shows the admin users.")
    }

    /// The tenant's id, its row kept from being deleted until the transaction ends.
}

extension Platform {
    /// Admin-portal users, their tenants, and sign-in.
    public var adminUsers: AdminUserStore { AdminUserStore(platform: self) }
}
