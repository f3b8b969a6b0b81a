import Foundation
import Permissions
import PlatformTestSupport
import PQ
import TenantPlatform
import Testing

@Suite("Platform: tenant provisioning")
struct ProvisioningTests {
    struct InjectedFailure: Error {}

    @Test("create provisions an isolated database, a role, the schema, the seed and sealed credentials")
    func create() async throws {
        try await PlatformFixture.run { f in
            let report = try await f.provisioner.create(name: "Acme Corporation", slug: "acme")
            let tenant = report.tenant
            #expect(tenant.status == .active)
            #expect(tenant.databaseName == "\(f.configuration.tenantDatabasePrefix)_acme")
            #expect(try tenant.schemaVersion == SQLManifest.auth().latestVersion)
            #expect(report.clonedFromTemplate)
            #expect(!tenant.credentialsEncrypted.contains(tenant.roleName))
            #expect(tenant.credentialsEncrypted.hasPrefix("v1:"))

            // The tenant's own credentials open its database, and only its database.
            let credentials = try await f.lifecycle.credentials(slug: "acme")
            let connection = try await Connection.connect(credentials.conninfo)
            #expect(try await connection.query("SELECT current_user::text").scalar(String.self) == tenant.roleName)
            // Seeded: the initial admin owns the tenant and logs in with the generated password.
            let auth = AuthClient(connection)
            let admin = try #require(try await auth.verifyUserPassword(username: credentials.adminEmail, password: credentials.adminPassword))
            let tenantID = try await connection.query("SELECT tenant_id FROM auth.tenant WHERE code = 'acme'").scalar(TenantID.self)
            #expect(try await auth.hasPermission(tenant: tenantID, user: admin, code: "users.create_user"))
            // A copy of each template of the defaults: the tenant roles, and the sets from before them.
            #expect(try await auth.listPermSets(tenant: tenantID).map(\.code) == ["ADMIN", "STANDARD_USER", "SUPERUSER", "TENANT_ADMIN", "USER"])
            await connection.close()
            // Not the master database, nor another tenant's.
            try await f.provisioner.create(name: "Globex", slug: "globex")
            for other in [f.configuration.masterDatabase, "\(f.configuration.tenantDatabasePrefix)_globex"] {
                await #expect(throws: PostgresError.self, "\(other)") {
                    try await Connection.connect(credentials.conninfo + " dbname=\(other)")
                }
            }
            // Each tenant database has a pepper of its own, not the template's: the key of its
            // API keys' hashes and of its sealed authenticator secrets.
            let prefix = f.configuration.tenantDatabasePrefix
            var peppers: Set<String> = []
            for database in ["\(prefix)_acme", "\(prefix)_globex", TenantNames.templateDatabase(prefix: prefix)] {
                peppers.formUnion(try await f.strings("SELECT encode(pepper, 'hex') FROM auth.secret_pepper", database: database))
            }
            #expect(peppers.count == 3)
            #expect(try await f.strings("SELECT action FROM platform.audit_log ORDER BY audit_id", database: f.configuration.masterDatabase)
                == ["tenant.create", "tenant.credentials_shown", "tenant.create"])
        }
    }

    @Test("without the template the schema is replayed, with the same result")
    func createWithoutTemplate() async throws {
        try await PlatformFixture.run { f in
            let report = try await TenantProvisioner(platform: f.platform, useTemplate: false).create(name: "Globex", slug: "globex")
            #expect(!report.clonedFromTemplate)
            #expect(report.tenant.status == .active)
            #expect(try await f.lifecycle.test(slug: "globex").schemaVersion == (try SQLManifest.auth().latestVersion))
            let globex = "\(f.configuration.tenantDatabasePrefix)_globex"
            #expect(try await f.leftovers() == ["database \(globex)", "role \(globex)", "role \(globex)_admin", "role \(globex)_app"])
        }
    }

    @Test("a malformed slug, a blank name or a taken slug is refused before anything is created")
    func refusals() async throws {
        try await PlatformFixture.run { f in
            for slug in ["", "a", "Acme", "acme_eu", "-acme", "acme-", "ac--me", "template", String(repeating: "a", count: 41)] {
                await #expect(throws: PlatformError.self, "\(slug)") { try await f.provisioner.create(name: "X", slug: slug) }
            }
            await #expect(throws: PlatformError.self) { try await f.provisioner.create(name: "  ", slug: "blank") }
            #expect(try await f.leftovers() == [])
            try await f.provisioner.create(name: "Acme", slug: "acme")
            do {
                try await f.provisioner.create(name: "Acme again", slug: "acme")
                Issue.record("a taken slug must be refused")
            } catch let error as PlatformError {
                #expect(error.code == .tenantExists)
            }
            #expect(try await f.platform.directory.all().map(\.slug) == ["acme"])
        }
    }

    @Test("a failure at any step leaves no database, role or registry row behind", arguments: ProvisioningStep.allCases)
    func failureAtEachStep(step: ProvisioningStep) async throws {
        // Explicitly throwing: with an exhaustive catch inside, Swift would infer a
        // non-throwing closure and reject the `try` in the #expect macros.
        try await PlatformFixture.run { (f: PlatformFixture) async throws in
            let provisioner = TenantProvisioner(platform: f.platform) { current in
                if current == step { throw InjectedFailure() }
            }
            do {
                try await provisioner.create(name: "Doomed", slug: "doomed")
                Issue.record("the injected failure must surface")
            } catch let error as PlatformError {
                #expect(error.code == .provisioningFailed, "\(error)")
            } catch {
                #expect(step == .registered && error is InjectedFailure, "\(error)")
            }
            #expect(try await f.leftovers() == [])
            #expect(try await f.platform.directory.all().isEmpty)
            // And the slug is free again.
            #expect(try await f.provisioner.create(name: "Doomed", slug: "doomed").tenant.status == .active)
        }
    }

    @Test("when rolling back fails too, the tenant is left failed; --resume finishes it, delete removes it")
    func failedRecordResumesOrDeletes() async throws {
        try await PlatformFixture.run { f in
            let prefix = f.configuration.tenantDatabasePrefix
            // A grant on another database makes DROP ROLE fail during the rollback.
            let provisioner = TenantProvisioner(platform: f.platform) { step in
                guard step == .seed else { return }
                let admin = try await f.superuser()
                try await admin.query("GRANT CONNECT ON DATABASE postgres TO \(prefix)_stuck")
                await admin.close()
                throw InjectedFailure()
            }
            await #expect(throws: PlatformError.self) { try await provisioner.create(name: "Stuck", slug: "stuck") }
            let failed = try #require(try await f.platform.directory.find(slug: "stuck"))
            #expect(failed.status == .failed)
            #expect(failed.provisioningStep == ProvisioningStep.schema.rawValue)
            #expect(failed.lastError?.contains("cleanup") == true)

            let resumed = try await f.provisioner.continueCreation(slug: "stuck")
            #expect(resumed.tenant.status == .active)
            #expect(try await f.lifecycle.test(slug: "stuck").schemaVersion != nil)

            let admin = try await f.superuser()
            try await admin.query("REVOKE CONNECT ON DATABASE postgres FROM \(prefix)_stuck")
            await admin.close()
            try await f.lifecycle.delete(slug: "stuck")
            #expect(try await f.leftovers() == [])
            #expect(try await f.platform.directory.find(slug: "stuck") == nil)
        }
    }

    @Test("a database or role with the tenant's name that the registry does not know is never adopted")
    func refusesOrphans() async throws {
        try await PlatformFixture.run { f in
            let admin = try await f.superuser()
            try await admin.query("CREATE ROLE \(f.configuration.tenantDatabasePrefix)_squat")
            await admin.close()
            do {
                try await f.provisioner.create(name: "Squat", slug: "squat")
                Issue.record("an existing role must be refused")
            } catch let error as PlatformError {
                #expect(error.code == .tenantExists)
                #expect(error.hint?.contains("doctor") == true)
            }
            #expect(try await f.platform.directory.all().isEmpty)
        }
    }
}
