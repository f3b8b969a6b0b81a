import Foundation
import Permissions
import PostgresTestSupport
import Testing

/// `pgperm permissions apply FILE`, run as a user would: the built binary.
@Suite("pgperm permissions apply")
struct PermissionsCommandTests {
    static let binaryBuilt = TenantCommandTests.binary != nil

    @Test("a dry run shows the changes and makes none; apply makes them; again there is nothing to change; a bad file fails",
          .enabled(if: binaryBuilt, "needs the pgperm binary (swift build)"))
    func apply() async throws {
        try await withTestDatabase(.auth) { database in
            let connection = try await database.connect()
            defer { Task { await connection.close() } }
            let directory = FileManager.default.temporaryDirectory.appending(path: "pgperm-perms-\(UUID().uuidString.prefix(6))")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            func write(_ name: String, _ text: String) throws {
                try text.write(to: directory.appending(path: name), atomically: true, encoding: .utf8)
            }
            func pgperm(_ arguments: [String], input: String = "") async throws -> TenantCommandTests.Result {
                try await TenantCommandTests.pgperm(["permissions", "apply"] + arguments + ["--database-url", database.conninfo],
                                              in: directory, input: input)
            }
            func codes() async throws -> [String] {
                try await connection.query("SELECT code::text FROM auth.permission ORDER BY 1").map { try $0.decode(String.self, at: 0) }
            }
            try write("permissions.json", """
                {"permissions": [{"code": "invoices.view", "name": "View invoices"}],
                 "perm_sets": [{"code": "CLERK", "name": "Clerk", "permissions": ["invoices.view"]}]}
                """)

            let dry = try await pgperm(["permissions.json", "--dry-run"])
            #expect(dry.status == 0, "\(dry.output)")
            #expect(dry.output.contains("Dry run, nothing changed"), "\(dry.output)")
            #expect(dry.output.contains("perm_set.add_permission CLERK invoices.view"), "\(dry.output)")
            #expect(try await codes() == [])

            let applied = try await pgperm(["permissions.json"])
            #expect(applied.status == 0, "\(applied.output)")
            #expect(applied.output.contains("Applied permissions.json: 4 change(s)."), "\(applied.output)")
            #expect(applied.output.contains("permission.create invoices.view (View invoices)"), "\(applied.output)")
            #expect(try await codes() == ["invoices", "invoices.view"])

            let again = try await pgperm(["-"], input: try String(contentsOf: directory.appending(path: "permissions.json"), encoding: .utf8))
            #expect(again.status == 0, "\(again.output)")
            #expect(again.output.contains("Nothing to change"), "\(again.output)")

            try write("typo.json", #"{"permisions": []}"#)
            let typo = try await pgperm(["typo.json"])
            #expect(typo.status != 0)
            #expect(typo.output.contains("QI010") && typo.output.contains("unknown key"), "\(typo.output)")
            try write("broken.json", #"{"permissions": ["#)
            let broken = try await pgperm(["broken.json"])
            #expect(broken.status != 0)
            #expect(broken.output.contains("not JSON"), "\(broken.output)")
            let missing = try await pgperm(["missing.json"])
            #expect(missing.status != 0)
            #expect(missing.output.contains("cannot read missing.json"), "\(missing.output)")

            // Removing a code a tenant uses needs --force.
            let auth = AuthClient(connection)
            let tenant = try await auth.createTenant(name: "Acme", code: "ACME")
            let user = try await auth.createUser(username: "kim")
            try await auth.addUserToTenant(tenant, user: user)
            try await auth.assignPermission(tenant: tenant, to: .user(user), grant: .permission("invoices.view"))
            try write("remove.json", #"{"remove": {"permissions": ["invoices"], "perm_sets": ["CLERK"]}}"#)
            let refused = try await pgperm(["remove.json"])
            #expect(refused.status != 0)
            #expect(refused.output.contains("QS001") && refused.output.contains("--force"), "\(refused.output)")
            #expect(try await codes() == ["invoices", "invoices.view"])
            let forced = try await pgperm(["remove.json", "--force"])
            #expect(forced.status == 0, "\(forced.output)")
            #expect(try await codes() == [])
        }
    }
}
