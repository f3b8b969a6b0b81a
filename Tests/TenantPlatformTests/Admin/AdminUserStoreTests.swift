import Foundation
import PlatformTestSupport
import PQ
import TenantPlatform
import Testing

@Suite("Platform: admin users")
struct AdminUserStoreTests {
    @Test("passwords are stored as bcrypt hashes; a generated password is returned once and works")
    func createAndHash() async throws {
        try await PlatformFixture.run { f in
            let admins = f.platform.adminUsers
            let chosen = try await admins.create(email: "Root@Example.COM", password: "correct horse battery", superadmin: true)
            #expect(chosen.generatedPassword == nil)
            #expect(chosen.user.email == "Root@example.com")
            #expect(chosen.user.role == .superadmin && chosen.user.isActive)
            let generated = try await admins.create(email: "ops@example.com", password: nil, superadmin: false)
            let password = try #require(generated.generatedPassword)
            #expect(password.count == 24)
            #expect(generated.user.role == .admin)

            let hashes = try await f.masterStrings("SELECT password_hash FROM platform.admin_user ORDER BY email")
            #expect(hashes.count == 2)
            for hash in hashes {
                #expect(hash.hasPrefix("$2a$10$") || hash.hasPrefix("$2b$10$"), "\(hash)")
                #expect(!hash.contains("horse") && !hash.contains(password))
            }
            #expect(try await admins.authenticate(email: "ops@example.com", password: password)?.id == generated.user.id)
            #expect(try await admins.all().map(\.email) == ["ops@example.com", "Root@example.com"])
            #expect(try await f.auditActions() == ["admin_user.create", "admin_user.create"])
            #expect(try await f.masterStrings("SELECT details::text FROM platform.audit_log")
                .allSatisfy { !$0.contains("horse") && !$0.contains(password) })
        }
    }

    @Test("authentication: right password, any case of email; wrong password, unknown email or inactive user fail")
    func authenticate() async throws {
        try await PlatformFixture.run { f in
            let admins = f.platform.adminUsers
            let created = try await admins.create(email: "ops@example.com", password: "s3cret-passphrase", superadmin: false)
            #expect(try await admins.authenticate(email: "ops@example.com", password: "s3cret-passphrase") == created.user)
            #expect(try await admins.authenticate(email: " OPS@Example.com", password: "s3cret-passphrase")?.id == created.user.id)
            #expect(try await admins.authenticate(email: "ops@example.com", password: "S3cret-passphrase") == nil)
            #expect(try await admins.authenticate(email: "ops@example.com", password: "") == nil)
            #expect(try await admins.authenticate(email: "nobody@example.com", password: "s3cret-passphrase") == nil)

            try await admins.setActive("ops@example.com", false)
            #expect(try await admins.require("ops@example.com").isActive == false)
            #expect(try await admins.authenticate(email: "ops@example.com", password: "s3cret-passphrase") == nil)
            try await admins.setActive("OPS@example.com", false)  // already inactive: nothing to audit
            try await admins.setActive(created.user.id.description, true)
            #expect(try await admins.authenticate(email: "ops@example.com", password: "s3cret-passphrase")?.isActive == true)
            #expect(try await f.auditActions() == ["admin_user.create", "admin_user.deactivate", "admin_user.activate"])
        }
    }

    @Test("an unknown email costs the same bcrypt work as a wrong password, so timing does not reveal which emails exist")
    func unknownEmailHashes() async throws {
        try await PlatformFixture.run { f in
            _ = try await f.platform.adminUsers.create(email: "ops@example.com", password: nil, superadmin: false)
            let master = try await f.superuser(f.configuration.masterDatabase)
            // Counted per transaction by the statistics system: which bcrypt functions each check ran.
            try await master.query("SET track_functions = 'all'")
            let calls = try await master.withTransaction { connection in
                try await connection.query("SELECT platform.verify_admin_password('nobody@example.com', 'wrong-password')")
                try await connection.query("SELECT platform.verify_admin_password('ops@example.com', 'wrong-password')")
                return try await connection.query("""
                    SELECT funcname || ' ' || calls FROM pg_stat_xact_user_functions
                     WHERE schemaname = 'platform' AND funcname IN ('hash_password', 'password_matches') ORDER BY funcname
                    """).rows.map { try $0.decode(String.self, at: 0) }
            }
            await master.close()
            #expect(calls == ["hash_password 1", "password_matches 1"])
        }
    }

    @Test("a regular admin manages only granted tenants, a superadmin every tenant, an inactive admin none")
    func scope() async throws {
        try await PlatformFixture.run { f in
            let admins = f.platform.adminUsers
            for slug in ["acme", "globex"] { try await f.registerTenant(slug) }
            let regular = try await admins.create(email: "ops@example.com", password: nil, superadmin: false).user
            let superadmin = try await admins.create(email: "root@example.com", password: nil, superadmin: true).user

            #expect(try await admins.grant(tenant: "acme", to: "ops@example.com"))
            #expect(try await admins.grant(tenant: "acme", to: "ops@example.com") == false, "granting again changes nothing")
            #expect(try await admins.require("ops@example.com").tenantSlugs == ["acme"])
            #expect(try await admins.canManage(regular, tenant: "acme"))
            #expect(try await admins.canManage(regular, tenant: "globex") == false)
            #expect(try await admins.canManage(superadmin, tenant: "acme"))
            #expect(try await admins.canManage(superadmin, tenant: "globex"))
            #expect(try await admins.canManage(superadmin, tenant: "nope") == false, "nobody manages a tenant that does not exist")

            // Checks read the current state, not the value the caller holds.
            try await admins.revoke(tenant: "acme", from: "ops@example.com")
            #expect(try await admins.canManage(regular, tenant: "acme") == false)
            try await admins.grant(tenant: "globex", to: "ops@example.com")
            try await admins.setActive("ops@example.com", false)
            #expect(try await admins.canManage(regular, tenant: "globex") == false)
            // Another superadmin first: the last active one cannot be deactivated, deleted or demoted.
            #expect(await platformErrorKind { try await admins.setActive("root@example.com", false) } == .lastSuperadmin)
            #expect(await platformErrorKind { try await admins.delete("root@example.com") } == .lastSuperadmin)
            #expect(await platformErrorKind { _ = try await admins.setRole("root@example.com", .admin) } == .lastSuperadmin)
            _ = try await admins.create(email: "backup@example.com", password: nil, superadmin: true)
            try await admins.setActive("root@example.com", false)
            #expect(try await admins.canManage(superadmin, tenant: "acme") == false)

            // A tenant's deletion takes its grants with it.
            _ = try await f.masterStrings("DELETE FROM platform.tenant WHERE slug = 'globex' RETURNING slug")
            #expect(try await admins.require("ops@example.com").tenantSlugs == [])
            #expect(try await f.masterStrings("SELECT tenant_slug FROM platform.audit_log WHERE action LIKE 'admin_user.%' AND tenant_slug IS NOT NULL ORDER BY audit_id")
                == ["acme", "acme", "globex"])
        }
    }

    @Test("weak passwords, taken or malformed emails, unknown users and tenants, and superadmin grants get clear errors")
    func refusals() async throws {
        try await PlatformFixture.run { f in
            let admins = f.platform.adminUsers
            try await f.registerTenant("acme")
            _ = try await admins.create(email: "ops@example.com", password: nil, superadmin: false)
            _ = try await admins.create(email: "root@example.com", password: nil, superadmin: true)

            #expect(await platformErrorKind { _ = try await admins.create(email: "a@example.com", password: "short", superadmin: false) }
                == .weakPassword)
            #expect(await platformErrorKind {
                _ = try await admins.create(email: "a@example.com", password: String(repeating: "é", count: 37), superadmin: false)
            } == .weakPassword, "74 bytes: bcrypt would ignore the end")
            #expect(await platformErrorKind { _ = try await admins.create(email: "OPS@example.com", password: nil, superadmin: true) }
                == .adminUserExists)
            #expect(await platformErrorKind { _ = try await admins.create(email: "ops", password: nil, superadmin: false) } == .invalidEmail)
            #expect(await platformErrorKind { try await admins.grant(tenant: "acme", to: "root@example.com") } == .superadminNotScoped)
            #expect(await platformErrorKind { try await admins.grant(tenant: "nope", to: "ops@example.com") } == .unknownTenant)
            #expect(await platformErrorKind { try await admins.grant(tenant: "acme", to: "nobody@example.com") } == .unknownAdminUser)
            #expect(await platformErrorKind { try await admins.revoke(tenant: "acme", from: "ops@example.com") } == .notAssigned)
            #expect(await platformErrorKind { try await admins.revoke(tenant: "nope", from: "ops@example.com") } == .unknownTenant)
            #expect(await platformErrorKind { try await admins.delete("nobody@example.com") } == .unknownAdminUser)
            #expect(await platformErrorKind { try await admins.setActive("nobody@example.com", false) } == .unknownAdminUser)

            #expect(try await admins.all().count == 2)
            #expect(try await f.auditActions() == ["admin_user.create", "admin_user.create"], "refusals change and audit nothing")
        }
    }

    @Test("a new password replaces the old one, ends the admin's portal sessions and only theirs, and is audited without the password")
    func resetPassword() async throws {
        try await PlatformFixture.run { f in
            let admins = f.platform.adminUsers
            let ops = try await admins.create(email: "ops@example.com", password: "old passphrase", superadmin: true)
            let other = try await admins.create(email: "other@example.com", password: nil, superadmin: true)
            for admin in [ops.user.id, ops.user.id, other.user.id] {
                try await f.platform.master.query("""
                    INSERT INTO platform.portal_session (token_hash, admin_user_id) VALUES (sha256(gen_random_uuid()::text::bytea), $1)
                    """, [admin])
            }
            func sessions(_ admin: AdminUserID) async throws -> Int {
                try await f.platform.master.query("SELECT count(*) FROM platform.portal_session WHERE admin_user_id = $1", [admin])
                    .scalar(Int.self)
            }

            #expect(try await admins.setPassword("OPS@example.com", password: "new passphrase") == nil)
            #expect(try await admins.authenticate(email: "ops@example.com", password: "old passphrase") == nil)
            #expect(try await admins.authenticate(email: "ops@example.com", password: "new passphrase")?.id == ops.user.id)
            #expect(try await sessions(ops.user.id) == 0)
            #expect(try await sessions(other.user.id) == 1)

            let generated = try #require(try await admins.setPassword(ops.user.id.description, password: nil))
            #expect(generated.count == 24)
            #expect(try await admins.authenticate(email: "ops@example.com", password: generated)?.id == ops.user.id)
            #expect(try await f.auditActions() == ["admin_user.create", "admin_user.create", "admin_user.password", "admin_user.password"])
            #expect(try await f.masterStrings("SELECT details::text FROM platform.audit_log")
                .allSatisfy { !$0.contains("passphrase") && !$0.contains(generated) })
        }
    }

    @Test("a weak new password or an unknown admin changes nothing and keeps the sessions")
    func resetPasswordRefusals() async throws {
        try await PlatformFixture.run { f in
            let admins = f.platform.adminUsers
            let ops = try await admins.create(email: "ops@example.com", password: "old passphrase", superadmin: false)
            try await f.platform.master.query("""
                INSERT INTO platform.portal_session (token_hash, admin_user_id) VALUES (sha256('token'::bytea), $1)
                """, [ops.user.id])
            #expect(await platformErrorKind { try await admins.setPassword("ops@example.com", password: "short") } == .weakPassword)
            #expect(await platformErrorKind {
                try await admins.setPassword("ops@example.com", password: String(repeating: "é", count: 37))
            } == .weakPassword)
            #expect(await platformErrorKind { try await admins.setPassword("nobody@example.com", password: nil) } == .unknownAdminUser)
            #expect(try await admins.authenticate(email: "ops@example.com", password: "old passphrase")?.id == ops.user.id)
            #expect(try await f.platform.master.query("SELECT count(*) FROM platform.portal_session").scalar(Int.self) == 1)
            #expect(try await f.auditActions() == ["admin_user.create"])
        }
    }

    @Test("deleting an admin user removes it and its grants; it can no longer sign in")
    func delete() async throws {
        try await PlatformFixture.run { f in
            let admins = f.platform.adminUsers
            try await f.registerTenant("acme")
            let created = try await admins.create(email: "ops@example.com", password: "s3cret-passphrase", superadmin: false)
            try await admins.grant(tenant: "acme", to: "ops@example.com")
            try await admins.delete("Ops@Example.com")
            #expect(try await admins.find("ops@example.com") == nil)
            #expect(try await admins.authenticate(email: "ops@example.com", password: "s3cret-passphrase") == nil)
            #expect(try await admins.canManage(created.user, tenant: "acme") == false)
            #expect(try await f.masterStrings("SELECT count(*)::text FROM platform.admin_user_tenant") == ["0"])
            #expect(try await f.masterStrings("SELECT details->>'email' FROM platform.audit_log WHERE action = 'admin_user.delete'")
                == ["ops@example.com"])
            // The email is free again.
            #expect(try await admins.create(email: "ops@example.com", password: nil, superadmin: false).user.id != created.user.id)
        }
    }
}
