import Foundation
import Permissions
import PlatformTestSupport
import PQ
import TenantPlatform
import Testing

/// Issue 13, item 2: tenant login roles were members of the server-wide `auth_admin`, so with
/// tenant alpha's connection string `tenant_alpha` connected to `pgperm up`'s database (and
/// `postgres`, `template1`) and ran `auth.create_user`, `auth.create_tenant` and
/// `auth.set_user_password` there. These tests perform that attack again.
///
/// They run one at a time on a server of their own whose `postgres` and `template1` refuse
/// PUBLIC, as `pgperm doctor` advises, so that "nothing to report" means exactly that.
@Suite("Security: a tenant's roles reach only its own database", .serialized)
struct SecurityTenantRoleTests {
    /// What a tenant's credentials try outside its database, as the attack did.
    static let attacks = [
        "SELECT auth.create_user('mallory', 'mallory@example.com', 'Mallory')",
        "SELECT auth.create_tenant('Evil', 'evil', NULL)",
        "SELECT auth.set_user_password(user_id, 'a long new password') FROM auth.user_info LIMIT 1",
        "SELECT auth.has_permission(gen_random_uuid(), gen_random_uuid(), 'users.view')",
        "SELECT count(*) FROM auth.user_info",
        "INSERT INTO auth.tenant (name, code) VALUES ('Evil', 'evil')",
    ]

    @Test("with alpha's credentials: beta's database, the master, the template and postgres refuse the connection; an auth database installed the default way refuses every call")
    func tenantCredentialsReachNothingElse() async throws {
        try await PlatformFixture.run(hardenedServer: true) { f in
            let prefix = f.configuration.tenantDatabasePrefix
            try await f.provisioner.create(name: "Alpha", slug: "alpha")
            try await f.provisioner.create(name: "Beta", slug: "beta")
            try await TenantProvisioner(platform: f.platform, useTemplate: false).create(name: "Gamma", slug: "gamma")
            let alpha = try await f.lifecycle.credentials(slug: "alpha")

            for database in ["\(prefix)_beta", "\(prefix)_gamma", f.configuration.masterDatabase,
                             TenantNames.templateDatabase(prefix: prefix), "postgres", "template1"] {
                let refusal = await Self.connectionRefusal { try await Connection.connect(alpha.conninfo + " dbname=\(database)") }
                #expect(refusal?.contains("permission denied for database") == true, "\(database): \(refusal ?? "connected")")
            }

            try await Self.withDefaultInstall(f) { up in
                // PUBLIC may connect there, as to any database PostgreSQL creates: nothing past that.
                let intruder = try await Connection.connect(alpha.conninfo + " dbname=\(up)")
                for sql in Self.attacks {
                    #expect(await Self.sqlState { try await intruder.query(sql) } == SQLState.insufficientPrivilege.rawValue, "\(sql)")
                }
                #expect(await Self.sqlState { try await intruder.query("SET ROLE auth_admin") } == SQLState.insufficientPrivilege.rawValue)
                await intruder.close()
            }

            // At home everything still works, through its own roles only.
            let home = try await Connection.connect(alpha.conninfo)
            #expect(try await home.query("SELECT auth.create_user('carol', 'carol@example.com', 'Carol') IS NOT NULL").scalar(Bool.self))
            #expect(try await home.query("SELECT rolname::text FROM pg_roles WHERE pg_has_role(current_user, oid, 'MEMBER') ORDER BY 1")
                .rows.map { try $0.decode(String.self, at: 0) } == TenantRoles(login: alpha.roleName).all.sorted())
            await home.close()
        }
    }

    @Test("a cloned and a replayed tenant database grant only to the tenant's own group roles, not to the template's")
    func tenantDatabasesGrantOnlyTheirOwnRoles() async throws {
        try await PlatformFixture.run(hardenedServer: true) { f in
            let cloned = try await f.provisioner.create(name: "Alpha", slug: "alpha").tenant
            let replayed = try await TenantProvisioner(platform: f.platform, useTemplate: false).create(name: "Beta", slug: "beta").tenant
            for tenant in [cloned, replayed] {
                let roles = TenantRoles(login: tenant.roleName)
                #expect(try await Self.grantees(in: tenant.databaseName, f) == [roles.admin, roles.app].sorted(), "\(tenant.slug)")
            }
        }
    }

    @Test("doctor reports nothing on a clean platform, and each planted way out: a shared role, CONNECT on another database, a database open to PUBLIC")
    func doctorFindsWaysOut() async throws {
        try await PlatformFixture.run(hardenedServer: true) { f in
            let prefix = f.configuration.tenantDatabasePrefix
            let alpha = try await f.provisioner.create(name: "Alpha", slug: "alpha").tenant
            try await f.provisioner.create(name: "Beta", slug: "beta")
            let doctor = PlatformDoctor(platform: f.platform)
            #expect(try await doctor.examine() == [])

            try await Self.withDefaultInstall(f) { up in
                let admin = try await f.superuser()
                try await admin.query("GRANT auth_admin TO \(alpha.roleName)")
                try await admin.query("GRANT CONNECT ON DATABASE \(prefix)_beta TO \(alpha.roleName)")
                await admin.close()
                let findings = try await doctor.examine()
                #expect(findings.map(\.kind) == [.foreignDatabase, .foreignDatabase, .sharedRole, .sharedRole])
                #expect(findings.map(\.name) == [
                    "\(prefix)_beta (\(alpha.roleName))",
                    "\(up) (every role may connect: CONNECT is granted to PUBLIC)",
                    "\(alpha.roleName) is a member of auth_admin",
                    "\(alpha.roleName) is a member of auth_app",
                ])
                #expect(findings[1].advice.contains("REVOKE CONNECT, TEMPORARY ON DATABASE \"\(up)\" FROM PUBLIC"))

                // The migration confines the roles; the database grants are the operator's to revoke.
                #expect(try await TenantMigrator(platform: f.platform).migrate().succeeded)
                #expect(try await doctor.examine().map(\.kind) == [.foreignDatabase, .foreignDatabase])
                let again = try await f.superuser()
                try await again.query("REVOKE CONNECT ON DATABASE \(prefix)_beta FROM \(alpha.roleName)")
                await again.close()
            }
            #expect(try await doctor.examine() == [])
        }
    }

    @Test("a tenant set up before tenants had roles of their own (a member of auth_admin) is moved to its own roles by the migration")
    func migrationConfinesOldTenants() async throws {
        try await PlatformFixture.run(hardenedServer: true) { f in
            let alpha = try await f.provisioner.create(name: "Alpha", slug: "alpha").tenant
            let template = TenantNames.templateDatabase(prefix: f.configuration.tenantDatabasePrefix)
            let own = TenantRoles(login: alpha.roleName)
            try await Self.withDefaultInstall(f) { up in
                // The old way: the template and the tenant's database granted auth_app and
                // auth_admin, and the tenant's role was a member of auth_admin.
                for database in [template, alpha.databaseName] {
                    let connection = try await Connection.connect(f.cluster.conninfo(database: database))
                    try await SchemaInstaller(manifest: try .auth(), rolePrefix: SchemaInstaller.defaultRolePrefix).install(on: connection)
                    await connection.close()
                }
                let admin = try await f.superuser()
                try await admin.query("GRANT auth_admin TO \(alpha.roleName)")
                try await admin.query("DROP ROLE \(own.admin), \(own.app)")
                await admin.close()
                let conninfo = try await f.lifecycle.credentials(slug: "alpha").conninfo
                let before = try await Connection.connect(conninfo + " dbname=\(up)")
                #expect(try await before.query(Self.attacks[0]).rows.count == 1, "the attack works the old way")
                await before.close()

                let run = try await TenantMigrator(platform: f.platform).migrate()
                #expect(run.succeeded)
                let after = try await Connection.connect(conninfo + " dbname=\(up)")
                #expect(await Self.sqlState { try await after.query(Self.attacks[1]) } == SQLState.insufficientPrivilege.rawValue)
                await after.close()
                #expect(try await Self.grantees(in: alpha.databaseName, f) == [own.admin, own.app].sorted())
                let templateRoles = TenantRoles(template: template)
                #expect(try await Self.grantees(in: template, f) == [templateRoles.admin, templateRoles.app].sorted())
                #expect(try await f.lifecycle.test(slug: "alpha").schemaVersion != nil)
                #expect(try await PlatformDoctor(platform: f.platform).examine().filter { $0.kind == .sharedRole } == [])
            }
        }
    }

    @Test("a login role too long for `<name>_admin` gets group roles with a hashed prefix that fits, and works")
    func longRoleNames() async throws {
        let prefix = "l\(UUID().uuidString.prefix(6).lowercased())_" + String(repeating: "p", count: 12)
        let slug = String(repeating: "s", count: 39) + "1"
        try await PlatformFixture.run(extra: ["TENANT_DB_PREFIX": prefix], hardenedServer: true) { f in
            let tenant = try await f.provisioner.create(name: "Long", slug: slug).tenant
            let roles = TenantRoles(login: tenant.roleName)
            #expect(tenant.roleName.utf8.count == 61)
            #expect(roles.groupPrefix.utf8.count == SchemaInstaller.maximumRolePrefixLength)
            #expect(roles.groupPrefix != TenantRoles(login: String(tenant.roleName.dropLast()) + "2").groupPrefix)
            #expect(try await f.strings("SELECT rolname::text FROM pg_roles WHERE rolname = ANY ($1) ORDER BY 1", [roles.all]) == roles.all.sorted())
            #expect(try await f.lifecycle.test(slug: slug).schemaVersion != nil)
            #expect(try await PlatformDoctor(platform: f.platform).examine() == [])
            try await f.lifecycle.delete(slug: slug)
            #expect(try await f.leftovers() == [])
        }
    }

    @Test("on a server left at PostgreSQL's defaults, doctor names postgres: every role may connect to it")
    func doctorOnDefaultServer() async throws {
        try await PlatformFixture.run { f in
            try await f.provisioner.create(name: "Alpha", slug: "alpha")
            let findings = try await PlatformDoctor(platform: f.platform).examine()
            #expect(findings.contains { $0.kind == .foreignDatabase && $0.name.hasPrefix("postgres (every role may connect") })
            #expect(!findings.contains { $0.name.hasPrefix(f.configuration.masterDatabase) }, "the platform's own databases are closed")
        }
    }

    // MARK: - Helpers

    /// Runs `body` with a database holding the auth schema installed the default way (group
    /// roles `auth_app` and `auth_admin`, CONNECT left to PUBLIC), as `pgperm up` makes one.
    static func withDefaultInstall(_ f: PlatformFixture, _ body: (String) async throws -> Void) async throws {
        let name = "up_\(f.configuration.tenantDatabasePrefix)"
        _ = try await f.strings("CREATE DATABASE \(name)")
        do {
            let connection = try await Connection.connect(f.cluster.conninfo(database: name))
            try await SchemaInstaller(manifest: try .auth()).install(on: connection)
            _ = try await connection.query("SELECT auth.create_user('victim', 'victim@example.com', 'Victim')")
            await connection.close()
            try await body(name)
        } catch {
            _ = try? await f.strings("DROP DATABASE \(name) WITH (FORCE)")
            throw error
        }
        _ = try await f.strings("DROP DATABASE \(name) WITH (FORCE)")
    }

    /// Every role but the owner that holds a privilege on a schema, table, column or function
    /// of `auth` and `pgperm` in the database.
    static func grantees(in database: String, _ f: PlatformFixture) async throws -> [String] {
        try await f.strings("""
            SELECT DISTINCT acl.grantee::regrole::text FROM (
                SELECT (aclexplode(nspacl)).grantee, nspowner AS owner FROM pg_namespace WHERE nspname IN ('auth', 'pgperm')
                UNION ALL SELECT (aclexplode(relacl)).grantee, relowner FROM pg_class WHERE relnamespace IN ('auth'::regnamespace, 'pgperm'::regnamespace)
                UNION ALL SELECT (aclexplode(attacl)).grantee, relowner FROM pg_attribute JOIN pg_class ON pg_class.oid = attrelid
                           WHERE relnamespace IN ('auth'::regnamespace, 'pgperm'::regnamespace)
                UNION ALL SELECT (aclexplode(proacl)).grantee, proowner FROM pg_proc WHERE pronamespace IN ('auth'::regnamespace, 'pgperm'::regnamespace)
            ) acl WHERE acl.grantee <> acl.owner ORDER BY 1
            """, database: database)
    }

    /// The SQLSTATE the body fails with; nil when it succeeds.
    static func sqlState(_ body: () async throws -> Void) async -> String? {
        do {
            try await body()
            return nil
        } catch let error as PostgresError {
            return error.code?.rawValue ?? "\(error)"
        } catch {
            return "\(error)"
        }
    }

    /// libpq's message when the connection is refused; nil when it opens (and is closed again).
    static func connectionRefusal(_ connect: () async throws -> Connection) async -> String? {
        do {
            try await connect().close()
            return nil
        } catch let error as PostgresError where error.kind == .connection {
            return error.message
        } catch {
            return "\(error)"
        }
    }
}
