import Foundation
import Permissions
import PostgresTestSupport
import PQ
import Testing

/// What the group roles created by the installer can and cannot do, tried for real by
/// login roles that are members of them.
@Suite("Security: roles and grants")
struct PrivilegeTests {
    /// Expects a raw query to fail with `state`.
    static func expectState(_ state: SQLState, sourceLocation: SourceLocation = #_sourceLocation,
                            _ body: () async throws -> Void) async {
        do {
            try await body()
            Issue.record("expected \(state), but it succeeded", sourceLocation: sourceLocation)
        } catch let error as PostgresError {
            #expect(error.code == state, "\(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("expected \(state), got \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test("the application role checks permissions, manages preferences and reads its tenant's users")
    func applicationRoleWorks() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["docs.read", "docs.write"])
            let tenant = try await f.tenant()
            let alice = try await f.member(of: tenant, "alice")
            try await f.auth.assignPermission(tenant: tenant, to: .user(alice), grant: .permission("docs.read"))
            let (_, connection) = try await f.login(memberOf: "auth_app")
            defer { Task { await connection.close() } }
            let app = AuthClient(connection)

            #expect(try await app.hasPermission(tenant: tenant, user: alice, code: "docs.read"))
            #expect(try await !app.hasPermission(tenant: tenant, user: alice, code: "docs.write"))
            #expect(try await app.hasPermissions(tenant: tenant, user: alice, codes: ["docs.read", "docs.write"]))
            await expectError(.unknownPermission) { _ = try await app.hasPermission(tenant: tenant, user: alice, code: "docs.nope") }
            await expectError(.insufficientPrivilege) { try await app.requirePermission(tenant: tenant, user: alice, code: "docs.write") }
            #expect(try await app.userPermissions(tenant: tenant, user: alice) == ["docs.read"])
            #expect(try await app.checkTenantAccess(tenant: tenant, user: alice))
            #expect(try await app.tenantUsers(tenant).map(\.userID) == [alice])
            try await app.setUserPreference(user: alice, tenant: tenant, key: "theme", value: "dark")
            #expect(try await app.userPreferences(user: alice, tenant: tenant) == ["theme": "dark"])
            try await app.deleteUserPreference(user: alice, tenant: tenant, key: "theme")
        }
    }

    @Test("the application role cannot administer, write tables, read other tables or call helpers")
    func applicationRoleIsRefused() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let alice = try await f.member(of: tenant, "alice")
            let (_, connection) = try await f.login(memberOf: "auth_app")
            defer { Task { await connection.close() } }
            let app = AuthClient(connection)

            await expectError(.insufficientPrivilege) { _ = try await app.createTenant(name: "Evil", code: "EVIL") }
            await expectError(.insufficientPrivilege) { try await app.addUserToTenant(tenant, user: try await f.user()) }
            await expectError(.insufficientPrivilege) { _ = try await app.auditLog(tenant: tenant) }
            for statement in [
                "INSERT INTO auth.tenant (name, code) VALUES ('Evil', 'EVIL')",
                "UPDATE auth.effective_access SET is_owner = true",
                "DELETE FROM auth.permission",
                "SELECT * FROM auth.tenant_user",
                "SELECT * FROM auth.audit_log",
                "SELECT auth.assert_given(1, 'x')",
                "SELECT auth.refresh_effective_access(NULL, NULL)",
                "SELECT * FROM pgperm.applied_file",
            ] {
                await Self.expectState(.insufficientPrivilege) { try await connection.query(statement) }
            }
            // Nothing changed: alice is still the tenant's only member and not an owner.
            #expect(try await f.auth.tenantUsers(tenant).map(\.userID) == [alice])
            #expect(try await f.sql("SELECT count(*) FROM auth.effective_access WHERE is_owner").scalar(Int.self) == 0)
        }
    }

    @Test("the admin role administers through functions and direct DML, audited under its own name")
    func adminRoleWorks() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["docs.read"])
            let (role, connection) = try await f.login(memberOf: "auth_admin")
            defer { Task { await connection.close() } }
            let admin = AuthClient(connection)

            let owner = try await admin.createUser(username: "owner-\(role)")
            let tenant = try await admin.createTenant(name: "Acme", code: "ACME-\(role)", owner: owner)
            let bob = try await admin.createUser(username: "bob-\(role)")
            try await admin.addUserToTenant(tenant, user: bob)
            let group = try await admin.createUserGroup(tenant: tenant, code: "READERS", name: "Readers")
            try await admin.addUserToGroup(tenant: tenant, group: group, user: bob)
            try await admin.assignPermission(tenant: tenant, to: .group(group), grant: .permission("docs.read"))
            #expect(try await admin.hasPermission(tenant: tenant, user: bob, code: "docs.read"))

            // Direct DML, as the reference shows: the triggers still keep checks right.
            try await connection.query("UPDATE auth.user_group SET is_active = false WHERE user_group_id = $1", [group])
            #expect(try await !admin.hasPermission(tenant: tenant, user: bob, code: "docs.read"))
            // The reference's hard removal of a member: its trigger stamps the tenant as the schema's owner.
            try await connection.query("UPDATE auth.user_group SET is_active = true WHERE user_group_id = $1", [group])
            #expect(try await admin.hasPermission(tenant: tenant, user: bob, code: "docs.read"))
            try await connection.query("DELETE FROM auth.tenant_user WHERE tenant_id = $1 AND user_id = $2", [tenant, bob])
            #expect(try await !admin.hasPermission(tenant: tenant, user: bob, code: "docs.read"))
            #expect(try await !admin.checkTenantAccess(tenant: tenant, user: bob))
            let roles = try await f.sql("SELECT DISTINCT db_role FROM auth.audit_log WHERE tenant_id = $1", [tenant])
                .rows.map { try $0.decode(String.self, at: 0) }
            #expect(roles == [role])
            #expect(try await admin.auditLog(tenant: tenant).count >= 5)

            // The cache, the audit log and the helpers stay out of reach.
            await Self.expectState(.insufficientPrivilege) { try await connection.query("UPDATE auth.effective_access SET is_owner = true") }
            await Self.expectState(.insufficientPrivilege) { try await connection.query("DELETE FROM auth.audit_log") }
            await Self.expectState(.insufficientPrivilege) { try await connection.query("TRUNCATE auth.tenant_user") }
            await Self.expectState(.insufficientPrivilege) { try await connection.query("SELECT auth.lock_tenants(NULL)") }
        }
    }

    @Test("a role prefix names the roles; changing it re-applies only the privileges")
    func rolePrefix() async throws {
        try await withTestConnection(.empty) { connection in
            let prefix = "p\(UUID().uuidString.prefix(6).lowercased())"
            let installer = SchemaInstaller(manifest: try .auth(), rolePrefix: prefix)
            try await installer.install(on: connection)
            let roles = try await connection.query(
                "SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname LIKE $1 ORDER BY 1", [prefix + "\\_%"])
            #expect(try roles.rows.map { try $0.decode(String.self, at: 0) } == ["\(prefix)_admin", "\(prefix)_app"])
            #expect(try roles.rows.allSatisfy { try !$0.decode(Bool.self, at: 1) })
            #expect(try await connection.query(
                "SELECT has_function_privilege($1, 'auth.has_permission(uuid,uuid,text)', 'EXECUTE')", [prefix + "_app"]).scalar(Bool.self))
            #expect(try await installer.install(on: connection).isUpToDate)

            let renamed = SchemaInstaller(manifest: try .auth(), rolePrefix: prefix + "x")
            #expect(try await renamed.status(on: connection).changedFiles == ["privileges.sql"])
            #expect(try await renamed.install(on: connection).appliedFiles == ["privileges.sql"])
            #expect(try await connection.query(
                "SELECT has_function_privilege($1, 'auth.create_tenant(text,text,uuid)', 'EXECUTE')", [prefix + "x_admin"]).scalar(Bool.self))
            // The old roles keep nothing here: their members must not reach this database.
            for role in [prefix + "_admin", prefix + "_app"] {
                #expect(try await !connection.query("""
                    SELECT has_schema_privilege($1, 'auth', 'USAGE') OR has_function_privilege($1, 'auth.has_permission(uuid,uuid,text)', 'EXECUTE')
                        OR has_table_privilege($1, 'auth.permission', 'SELECT') OR has_column_privilege($1, 'auth.user_password', 'user_id', 'SELECT')
                    """, [role]).scalar(Bool.self), "\(role)")
            }
        }
    }

    @Test("a malformed role prefix fails the install, naming the privileges file, and installs nothing")
    func badRolePrefix() async throws {
        try await withTestConnection(.empty) { connection in
            do {
                try await SchemaInstaller(manifest: try .auth(), rolePrefix: "Bad-Prefix\"; DROP").install(on: connection)
                Issue.record("expected the install to fail")
            } catch let error as InstallError {
                #expect("\(error)".contains("privileges.sql"), "\(error)")
                #expect("\(error)".contains("QI001"), "\(error)")
            }
            #expect(try await connection.query("SELECT to_regnamespace('auth') IS NULL").scalar(Bool.self))
        }
    }

    @Test("installs into two databases at once create the same new roles without failing")
    func concurrentRoleCreation() async throws {
        try await withTestDatabase(.empty) { first in
            try await withTestDatabase(.empty) { second in
                let installer = SchemaInstaller(manifest: try .auth(), rolePrefix: "r\(UUID().uuidString.prefix(6).lowercased())")
                async let a = SchemaInstallerTests.install(installer, first)
                async let b = SchemaInstallerTests.install(installer, second)
                let reports = try await [a, b]
                #expect(reports.allSatisfy { $0.appliedFiles.contains("privileges.sql") })
            }
        }
    }

    @Test("a function added by a later install is not executable by PUBLIC: privileges are re-applied")
    func privilegesFollowNewFunctions() async throws {
        let privileges = "REVOKE ALL ON ALL FUNCTIONS IN SCHEMA sample FROM PUBLIC;\n"
        var files = SchemaInstallerTests.sample
        files["privileges.sql"] = privileges
        let order = ["migrations/0001_one.sql", "functions.sql", "privileges.sql"]
        try await withTestConnection(.empty) { connection in
            try await SchemaInstaller(manifest: try SchemaInstallerTests.manifest(files, order: order)).install(on: connection)
            files["functions.sql"]! += "CREATE OR REPLACE FUNCTION sample.g() RETURNS int LANGUAGE sql AS 'SELECT 2';\n"
            let installer = SchemaInstaller(manifest: try SchemaInstallerTests.manifest(files, order: order))
            #expect(try await installer.status(on: connection).changedFiles == ["functions.sql", "privileges.sql"])
            let report = try await installer.install(on: connection)
            #expect(report.appliedFiles == ["functions.sql", "privileges.sql"])
            #expect(try await !connection.query("SELECT has_function_privilege('public', 'sample.g()', 'EXECUTE')").scalar(Bool.self))
        }
    }
}
