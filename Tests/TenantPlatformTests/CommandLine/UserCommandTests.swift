import Foundation
import LocalPostgres
import Permissions
import PlatformTestSupport
import PostgresTestSupport
import TenantPlatform
import Testing

/// `pgperm admin password`, `pgperm user unlock` and `reset-second-factor`, run as a user would: the built binary.
@Suite("Platform: pgperm admin password, user unlock and reset-second-factor")
struct UserCommandTests {
    static let binaryBuilt = TenantCommandTests.binary != nil

    @Test("admin password: reads a new one from stdin or generates one and prints it once; either way the sessions end",
          .enabled(if: binaryBuilt, "needs the pgperm binary (swift build)"))
    func adminPassword() async throws {
        try await PlatformFixture.run { f in
            let directory = FileManager.default.temporaryDirectory.appending(path: "pgperm-cli-\(UUID().uuidString.prefix(6))")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            try """
                MASTER_DB_HOST=\(f.cluster.host)
                MASTER_DB_PORT=\(f.cluster.port ?? 5432)
                MASTER_DB_USER=\(LocalCluster.superuser)
                MASTER_DB_PASSWORD=\(f.cluster.password ?? "")
                MASTER_DB_NAME=\(f.configuration.masterDatabase)
                TENANT_DB_PREFIX=\(f.configuration.tenantDatabasePrefix)
                TENANT_ENCRYPTION_KEY=\(f.keyHex)
                """.write(to: directory.appending(path: ".env"), atomically: true, encoding: .utf8)
            let admins = f.platform.adminUsers
            let ops = try await admins.create(email: "ops@example.com", password: "old passphrase", superadmin: true)
            func signIn() async throws {
                try await f.platform.master.query("""
                    INSERT INTO platform.portal_session (token_hash, admin_user_id) VALUES (sha256(gen_random_uuid()::text::bytea), $1)
                    """, [ops.user.id])
            }
            func sessions() async throws -> Int {
                try await f.platform.master.query("SELECT count(*) FROM platform.portal_session").scalar(Int.self)
            }

            try await signIn()
            let fromStdin = try await TenantCommandTests.pgperm(["admin", "password", "OPS@example.com", "--password-stdin"],
                                                           in: directory, input: "new passphrase\n")
            #expect(fromStdin.status == 0, "\(fromStdin.output)")
            #expect(!fromStdin.output.contains("new passphrase"))
            #expect(try await admins.authenticate(email: "ops@example.com", password: "new passphrase")?.id == ops.user.id)
            #expect(try await sessions() == 0)

            try await signIn()
            let generated = try await TenantCommandTests.pgperm(["admin", "password", "ops@example.com"], in: directory)
            #expect(generated.status == 0, "\(generated.output)")
            let line = try #require(generated.output.split(separator: "\n").first { $0.hasPrefix("Password: ") })
            let password = String(line.dropFirst("Password: ".count))
            #expect(try await admins.authenticate(email: "ops@example.com", password: password)?.id == ops.user.id)
            #expect(try await sessions() == 0)

            let weak = try await TenantCommandTests.pgperm(["admin", "password", "ops@example.com", "--password-stdin"],
                                                      in: directory, input: "short\n")
            #expect(weak.status != 0)
            #expect(weak.output.contains("8 to 72 bytes"), "\(weak.output)")
            let unknown = try await TenantCommandTests.pgperm(["admin", "password", "nobody@example.com"], in: directory)
            #expect(unknown.status != 0)
            #expect(try await admins.authenticate(email: "ops@example.com", password: password) != nil)
        }
    }

    @Test("user unlock: lifts a lock by username (any case) or id; says when there was none; refuses an unknown user",
          .enabled(if: binaryBuilt, "needs the pgperm binary (swift build)"))
    func userUnlock() async throws {
        try await withTestDatabase(.auth) { database in
            let connection = try await database.connect()
            defer { Task { await connection.close() } }
            let auth = AuthClient(connection)
            try await connection.query("SET auth.bcrypt_cost = 4")
            let kim = try await auth.createUser(username: "Kim")
            try await auth.setUserPassword(kim, password: "correct horse battery")
            func lock() async throws {
                try await connection.query("SET auth.max_failed_logins = 1")
                _ = try await auth.verifyUserPassword(username: "kim", password: "wrong guess")
                #expect(try await auth.verifyUserPassword(username: "kim", password: "correct horse battery") == nil)
            }
            let directory = FileManager.default.temporaryDirectory
            func pgperm(_ arguments: [String]) async throws -> TenantCommandTests.Result {
                try await TenantCommandTests.pgperm(["user"] + arguments + ["--database-url", database.conninfo], in: directory)
            }

            try await lock()
            let unlocked = try await pgperm(["unlock", "KIM"])
            #expect(unlocked.status == 0, "\(unlocked.output)")
            #expect(unlocked.output.contains("is unlocked"), "\(unlocked.output)")
            #expect(try await auth.verifyUserPassword(username: "kim", password: "correct horse battery") == kim)

            try await lock()
            #expect(try await pgperm(["unlock", kim.description]).status == 0)
            #expect(try await auth.verifyUserPassword(username: "kim", password: "correct horse battery") == kim)

            let notLocked = try await pgperm(["unlock", "kim"])
            #expect(notLocked.status == 0)
            #expect(notLocked.output.contains("was not locked"), "\(notLocked.output)")
            let unknown = try await pgperm(["unlock", "nobody"])
            #expect(unknown.status != 0)
            #expect(unknown.output.contains("no user has username or id 'nobody'"), "\(unknown.output)")
        }
    }

    @Test("user reset-second-factor: removes a user's authenticator so the password signs in alone; says when there was none",
          .enabled(if: binaryBuilt, "needs the pgperm binary (swift build)"))
    func resetSecondFactor() async throws {
        try await withTestDatabase(.auth) { database in
            let connection = try await database.connect()
            defer { Task { await connection.close() } }
            let auth = AuthClient(connection)
            try await connection.query("SET auth.bcrypt_cost = 4")
            let lee = try await auth.createUser(username: "Lee")
            try await auth.setUserPassword(lee, password: "correct horse battery")
            let enrolment = try await auth.beginTOTPEnrolment(user: lee)
            _ = try await auth.confirmTOTPEnrolment(user: lee, code: TOTPGenerator.code(secret: enrolment.secret))
            let directory = FileManager.default.temporaryDirectory
            func pgperm(_ arguments: [String]) async throws -> TenantCommandTests.Result {
                try await TenantCommandTests.pgperm(["user", "reset-second-factor"] + arguments + ["--database-url", database.conninfo], in: directory)
            }

            let reset = try await pgperm(["LEE"])
            #expect(reset.status == 0 && reset.output.contains("second factor is removed"), "\(reset.output)")
            #expect(try await auth.secondFactor(user: lee).isEnabled == false)
            let again = try await pgperm([lee.description])
            #expect(again.status == 0 && again.output.contains("had no second factor"), "\(again.output)")
            let unknown = try await pgperm(["nobody"])
            #expect(unknown.status != 0 && unknown.output.contains("no user has username or id 'nobody'"), "\(unknown.output)")
        }
    }
}
