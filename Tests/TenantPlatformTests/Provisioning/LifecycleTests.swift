import Foundation
import Permissions
import PlatformTestSupport
import PQ
import TenantPlatform
import Testing

@Suite("Platform: tenant lifecycle")
struct LifecycleTests {
    @Test("suspend refuses logins and closes sessions; resume lets them back")
    func suspendAndResume() async throws {
        try await PlatformFixture.run { f in
            try await f.provisioner.create(name: "Acme", slug: "acme")
            let session = try await Connection.connect(try await f.lifecycle.credentials(slug: "acme").conninfo)
            let database = try await f.withTenantConnection("acme") { connection in
                try await connection.query("SELECT current_database()::text").scalar(String.self)
            }
            #expect(database.hasSuffix("_acme"))

            try await f.lifecycle.suspend(slug: "acme")
            #expect(try await f.platform.directory.require(slug: "acme").status == .inactive)
            await #expect(throws: PostgresError.self) { try await f.lifecycle.test(slug: "acme") }
            await #expect(throws: (any Error).self) { try await session.query("SELECT 1") }
            await session.close()
            do {
                try await f.withTenantConnection("acme") { _ in }
                Issue.record("a suspended tenant must get no connection")
            } catch let error as PlatformError {
                #expect(error.code == .tenantNotActive)
            }

            try await f.lifecycle.resume(slug: "acme")
            #expect(try await f.lifecycle.test(slug: "acme").schemaVersion != nil)
            try await f.withTenantConnection("acme") { connection in
                try await connection.query("SELECT 1")
            }
            #expect(try await f.strings("SELECT action FROM platform.audit_log ORDER BY audit_id", database: f.configuration.masterDatabase)
                .suffix(2) == ["tenant.suspend", "tenant.resume"])
        }
    }

    @Test("delete drops the database and the role, removes the record and audits it")
    func delete() async throws {
        try await PlatformFixture.run { f in
            try await f.provisioner.create(name: "Acme", slug: "acme")
            try await f.provisioner.create(name: "Globex", slug: "globex")
            try await f.withTenantConnection("acme") { try await $0.query("SELECT 1") }
            try await f.lifecycle.delete(slug: "acme")
            let prefix = f.configuration.tenantDatabasePrefix
            #expect(try await f.leftovers() == ["database \(prefix)_globex", "role \(prefix)_globex", "role \(prefix)_globex_admin",
                                                "role \(prefix)_globex_app"])
            #expect(try await f.platform.directory.all().map(\.slug) == ["globex"])
            await #expect(throws: PlatformError.self) { try await f.lifecycle.delete(slug: "acme") }
            #expect(try await f.strings("SELECT tenant_slug FROM platform.audit_log WHERE action = 'tenant.delete'",
                                        database: f.configuration.masterDatabase) == ["acme"])
        }
    }

    @Test("renaming and changing a slug keep the database; a taken slug is refused")
    func update() async throws {
        try await PlatformFixture.run { f in
            let database = try await f.provisioner.create(name: "Acme", slug: "acme").tenant.databaseName
            try await f.provisioner.create(name: "Globex", slug: "globex")
            let returned = try await f.lifecycle.update(slug: "acme", TenantChange(name: " Acme Inc ", slug: "acme-inc"))
            let renamed = try await f.platform.directory.require(slug: "acme-inc")
            #expect(renamed == returned)
            #expect(renamed.name == "Acme Inc")
            #expect(renamed.databaseName == database)
            #expect(await platformErrorKind { try await f.lifecycle.update(slug: "acme-inc", TenantChange(slug: "globex")) } == .tenantExists)
            #expect(await platformErrorKind { try await f.lifecycle.update(slug: "acme-inc", TenantChange(slug: "Bad Slug")) } == .invalidSlug)
            #expect(await platformErrorKind { try await f.lifecycle.update(slug: "nope", TenantChange(name: "X")) } == .unknownTenant)
            #expect(try await f.lifecycle.update(slug: "acme-inc", TenantChange()) == renamed, "an empty change writes nothing")
            let same = TenantChange(name: "Acme Inc", slug: "acme-inc", status: .active)
            #expect(try await f.lifecycle.update(slug: "acme-inc", same) == renamed, "values it already has change nothing")
            try await f.lifecycle.resume(slug: "acme-inc")
            #expect(try await f.lifecycle.test(slug: "acme-inc").schemaVersion != nil)
            #expect(try await f.auditActions().filter { $0 == "tenant.update" }.count == 1)
        }
    }

    @Test("a slug given up by a rename can be taken by a new tenant, with names of its own; a taken slug says so")
    func oldSlugIsFree() async throws {
        try await PlatformFixture.run { f in
            let first = try await f.provisioner.create(name: "Initech", slug: "initech").tenant
            try await f.lifecycle.update(slug: "initech", TenantChange(slug: "initech-old"))
            let second = try await f.provisioner.create(name: "Initech 2", slug: "initech").tenant
            #expect(second.databaseName != first.databaseName && second.roleName != first.roleName)
            #expect(second.databaseName.hasPrefix(first.databaseName + "_"))
            // Each answers from its own database.
            #expect(try await f.lifecycle.test(slug: "initech").schemaVersion != nil)
            #expect(try await f.lifecycle.test(slug: "initech-old").schemaVersion != nil)
            do {
                try await f.provisioner.create(name: "Again", slug: "initech")
                Issue.record("a taken slug must be refused")
            } catch let error as PlatformError {
                #expect(error.code == .tenantExists)
                #expect(error.message == "tenant initech already exists")
            }
            let findings = try await PlatformDoctor(platform: f.platform).examine().filter { $0.name.contains("initech") }
            #expect(findings.isEmpty, "\(findings)")
        }
    }

    @Test("a wrong encryption key stops start-up before any tenant is touched")
    func wrongKey() async throws {
        try await PlatformFixture.run { f in
            let wrong = try PlatformFixture.configuration(
                cluster: f.cluster, keyHex: EncryptionKey.generateHex(), prefix: f.configuration.tenantDatabasePrefix,
                master: f.configuration.masterDatabase)
            do {
                _ = try await Platform.start(wrong)
                Issue.record("a wrong key must stop start-up")
            } catch let error as PlatformError {
                #expect(error.code == .wrongEncryptionKey)
            }
            // The right key still starts.
            let again = try await Platform.start(f.configuration)
            await again.shutdown()
        }
    }

    @Test("MULTI_TENANT=false refuses to start the platform, saying how to turn it on")
    func multiTenantOff() async throws {
        try await PlatformFixture.run { f in
            let off = try PlatformFixture.configuration(
                cluster: f.cluster, keyHex: f.keyHex, prefix: f.configuration.tenantDatabasePrefix,
                master: f.configuration.masterDatabase, extra: ["MULTI_TENANT": "false"])
            do {
                _ = try await Platform.start(off)
                Issue.record("MULTI_TENANT=false must refuse")
            } catch let error as PlatformError {
                #expect(error.code == .multiTenantDisabled)
                #expect(error.hint?.contains("MULTI_TENANT=true") == true)
            }
        }
    }

    @Test("doctor reports unknown databases and roles, missing databases and unfinished creations")
    func doctor() async throws {
        // What a tenant role can reach is SecurityTenantRoleTests' subject, on a server of its own.
        let registryKinds: Set<PlatformDoctor.Finding.Kind> = [.unknownDatabase, .unknownRole, .missingDatabase, .unfinished]
        try await PlatformFixture.run { f in
            let prefix = f.configuration.tenantDatabasePrefix
            try await f.provisioner.create(name: "Acme", slug: "acme")
            try await f.provisioner.create(name: "Gone", slug: "gone")
            #expect(try await PlatformDoctor(platform: f.platform).examine().filter { registryKinds.contains($0.kind) } == [])

            let admin = try await f.superuser()
            try await admin.query("CREATE DATABASE \(prefix)_stray")
            try await admin.query("CREATE ROLE \(prefix)_lost")
            try await admin.query("DROP DATABASE \(prefix)_gone WITH (FORCE)")
            await admin.close()
            let interrupted = TenantProvisioner(platform: f.platform) { step in
                if step == .role { throw CancellationError() }
            }
            _ = try? await interrupted.create(name: "Half", slug: "half")  // rolled back: nothing to report
            let findings = try await PlatformDoctor(platform: f.platform).examine().filter { registryKinds.contains($0.kind) }
            #expect(findings.map(\.kind) == [.unknownDatabase, .unknownRole, .missingDatabase])
            #expect(findings.map(\.name) == ["\(prefix)_stray", "\(prefix)_lost", "gone (\(prefix)_gone)"])
        }
    }
}
