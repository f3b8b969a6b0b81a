import Foundation
import PQ

/// Sign-in and the question the admin portal asks on every request: may this admin manage
/// this tenant?
extension AdminUserStore {
    /// The active admin user with this email (any case) and password, or nil.
    ///
    /// The check runs in `platform.verify_admin_password`, which spends the same bcrypt work
    /// on an unknown email as on a known one, so response times do not reveal which emails exist.
    public func authenticate(email: String, password: String) async throws -> AdminUser? {
        let id = try await platform.master.query("SELECT platform.verify_admin_password($1, $2)",
                                                 [email.trimmingCharacters(in: .whitespaces), password]).scalar(UUID?.self)
        guard let id else { return nil }
        return try await find(id.lowercased)
    }

    /// A portal sign-in or sign-out, recorded in the platform audit log as the admin's own act
    /// (`admin_user.sign_in`, `admin_user.sign_out`) with the client's address: who was in the
    /// console, when, and from where. Failed attempts are the sign-in throttle's to count.
    public func recordSession(_ event: SessionEvent, of admin: AdminUser, client: String) async throws {
        try await AuditActor.$current.withValue(.admin(admin.id, email: admin.email)) {
            try await platform.changeMaster { tx in
                try await tx.audit("admin_user.\(event.rawValue)", details: [
                    "email": admin.email, "admin_user_id": admin.id.description, "client": client])
            }
        }
    }

    public enum SessionEvent: String, Sendable {
        case signIn = "sign_in"
        case signOut = "sign_out"
    }

    /// Whether the admin user may manage the tenant: a superadmin any tenant, a regular admin
    /// the tenants granted to it; an inactive admin user none, and nobody a tenant that does
    /// not exist. Reads the current state, so a revoked grant or a deactivation counts at once.
    public func canManage(_ admin: AdminUser, tenant slug: String) async throws -> Bool {
        try await platform.master.query("""
            SELECT EXISTS (
                SELECT 1 FROM platform.admin_user a JOIN platform.tenant t ON t.slug = $2
                 WHERE a.admin_user_id = $1 AND a.is_active
                   AND (a.is_superadmin OR EXISTS (SELECT 1 FROM platform.admin_user_tenant g
                                                    WHERE g.admin_user_id = a.admin_user_id AND g.tenant_id = t.tenant_id)))
            """, [admin.id, slug]).scalar(Bool.self)
    }
}
