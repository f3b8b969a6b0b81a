import Foundation
import Permissions
import PQ
import Testing

@Suite("Actor and audit log")
struct AuditTests {
    // MARK: Helpers

    /// The `old` or `new` row recorded in an entry's details.
    static func row(_ entry: AuditEntry, _ side: String) throws -> [String: Any]? {
        let object = try JSONSerialization.jsonObject(with: Data(entry.details.utf8))
        let details = try #require(object as? [String: Any], "details is not a JSON object: \(entry.details)")
        return details[side] as? [String: Any]
    }

    static func string(_ entry: AuditEntry, _ side: String, _ column: String) throws -> String? {
        try row(entry, side)?[column] as? String
    }

    static func sessionUser(_ f: AuthFixture) async throws -> String {
        try await f.sql("SELECT session_user::text").scalar(String.self)
    }

    static func now(_ f: AuthFixture) async throws -> Date {
        try await f.sql("SELECT clock_timestamp()").scalar(Date.self)
    }

    /// Codes of the groups whose creation the entries record, newest first.
    static func createdGroups(_ entries: [AuditEntry]) throws -> [String] {
        try entries.filter { $0.action == "user_group.insert" }.compactMap { try string($0, "new", "code") }
    }

    // MARK: set_actor / current_actor

    @Test("set_actor lasts until the end of the transaction and no longer")
    func actorIsTransactionLocal() async throws {
        try await AuthFixture.run { f in
            let admin = try await f.user("admin")
            #expect(try await f.auth.currentActor() == nil)
            try await f.connection.withTransaction { connection in
                let auth = AuthClient(connection)
                try await auth.setActor(admin)
                #expect(try await auth.currentActor() == admin)
                _ = try await f.sql("SELECT 1")
                #expect(try await auth.currentActor() == admin)
            }
            #expect(try await f.auth.currentActor() == nil)
        }
    }

    @Test("an actor set in a transaction that rolls back does not survive it")
    func actorClearedByRollback() async throws {
        struct Abort: Error {}
        try await AuthFixture.run { f in
            let admin = try await f.user("admin")
            await #expect(throws: Abort.self) {
                try await f.connection.withTransaction { connection in
                    try await AuthClient(connection).setActor(admin)
                    throw Abort()
                }
            }
            #expect(try await f.auth.currentActor() == nil)
        }
    }

    @Test("outside a transaction set_actor lasts for its own statement only")
    func actorOutsideTransaction() async throws {
        try await AuthFixture.run { f in
            let admin = try await f.user("admin")
            let tenant = try await f.tenant()
            try await f.sql("SELECT auth.set_actor($1)", [admin])
            #expect(try await f.auth.currentActor() == nil)
            _ = try await f.auth.createUserGroup(tenant: tenant, code: "TEAM", name: "Team")
            let entry = try #require(try await f.auth.auditLog(tenant: tenant).first { $0.action == "user_group.insert" })
            #expect(entry.actor == nil)
        }
    }

    @Test("AuthClient.setActor outside a transaction throws outsideTransaction before sending anything, on a connection or a pool")
    func setActorRefusesAutocommit() async throws {
        try await AuthFixture.run { f in
            let admin = try await f.user("admin")
            await expectError(.outsideTransaction) { try await f.auth.setActor(admin) }
            let pool = ConnectionPool(.init(conninfo: f.database.conninfo, maximumConnections: 1))
            await expectError(.outsideTransaction) { try await AuthClient(pool).setActor(admin) }
            await pool.close()
            // Inside a transaction it works, and a failed one is left to the server (25P02).
            try await f.connection.withTransaction { connection in
                try await AuthClient(connection).setActor(admin)
                #expect(try await AuthClient(connection).currentActor() == admin)
            }
        }
    }

    @Test("set_actor called from psql outside a transaction block warns (QS005); inside one, or after BEGIN in one string, it does not")
    func setActorWarnsInAutocommit() async throws {
        try await AuthFixture.run { f in
            let admin = try await f.user("admin")
            /// The QS005 warnings psql prints (VERBOSITY verbose shows the SQLSTATE).
            func warnings(_ script: String? = nil, command: String? = nil) throws -> Int {
                try Self.psql(f, script, command: command).split(separator: "\n").filter { $0.contains("WARNING:  QS005") }.count
            }
            let call = "SELECT auth.set_actor('\(admin)');"
            #expect(try warnings("\(call)\n") == 1)
            #expect(try warnings(command: call) == 1)
            #expect(try warnings("\(call)\n\(call)\n") == 2)
            #expect(try warnings("BEGIN;\n\(call)\nCOMMIT;\n") == 0)
            #expect(try warnings("BEGIN;\n\(call)\n\(call)\nCOMMIT;\n") == 0)
            // One query string (psql -c sends it as one simple query): BEGIN first, or more statements after it.
            #expect(try warnings(command: "BEGIN; \(call) COMMIT") == 0)
            #expect(try warnings(command: "\(call) SELECT 1") == 0)
            // Clearing the actor, and a call inside a DO block, never warn.
            #expect(try warnings("SELECT auth.set_actor(NULL);\n") == 0)
            #expect(try warnings("DO $$ BEGIN PERFORM auth.set_actor('\(admin)'); END $$;\n") == 0)
        }
    }

    /// Runs psql on the fixture's database with `script` on standard input (or `command`
    /// with -c); standard output and error together.
    static func psql(_ f: AuthFixture, _ script: String?, command: String? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["psql", "-X", "-q", "-v", "VERBOSITY=verbose", "-d", f.database.conninfo] + (command.map { ["-c", $0] } ?? [])
        let output = Pipe(), input = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = input
        try process.run()
        input.fileHandleForWriting.write(Data((script ?? "").utf8))
        try input.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text
    }

    // MARK: Entries written for function calls and direct DML

    @Test("a function call leaves an entry with actor, database role, tenant, action and the new row")
    func entryForFunctionCall() async throws {
        try await AuthFixture.run { f in
            let admin = try await f.user("admin")
            let tenant = try await f.tenant()
            let group = try await f.connection.withTransaction { connection in
                let auth = AuthClient(connection)
                try await auth.setActor(admin)
                return try await auth.createUserGroup(tenant: tenant, code: "ADMINS", name: "Administrators")
            }
            let entries = try await f.auth.auditLog(tenant: tenant)
            let entry = try #require(entries.first { $0.action == "user_group.insert" })
            #expect(entry.tenantID == tenant)
            #expect(entry.actor == admin)
            #expect(entry.databaseRole == (try await Self.sessionUser(f)))
            #expect(try Self.string(entry, "new", "user_group_id") == group.description)
            #expect(try Self.string(entry, "new", "code") == "ADMINS")
            #expect(try Self.string(entry, "new", "name") == "Administrators")
            #expect(try Self.row(entry, "old") == nil)
        }
    }

    @Test("changes made without an actor are recorded with none")
    func entryWithoutActor() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            _ = try await f.auth.createUserGroup(tenant: tenant, code: "TEAM", name: "Team")
            let entries = try await f.auth.auditLog(tenant: tenant)
            #expect(entries.map(\.action).contains("user_group.insert"))
            #expect(entries.allSatisfy { $0.actor == nil })
        }
    }

    @Test("consecutive transactions record their own actors")
    func actorsPerTransaction() async throws {
        try await AuthFixture.run { f in
            let alice = try await f.user("alice")
            let bob = try await f.user("bob")
            let tenant = try await f.tenant()
            for (actor, code) in [(alice, "BY_ALICE"), (bob, "BY_BOB")] {
                try await f.connection.withTransaction { connection in
                    let auth = AuthClient(connection)
                    try await auth.setActor(actor)
                    _ = try await auth.createUserGroup(tenant: tenant, code: code, name: code)
                }
            }
            let entries = try await f.auth.auditLog(tenant: tenant).filter { $0.action == "user_group.insert" }
            let actors = try Dictionary(uniqueKeysWithValues: entries.map { (try Self.string($0, "new", "code") ?? "", $0.actor) })
            #expect(actors == ["BY_ALICE": alice, "BY_BOB": bob])
        }
    }

    @Test("the database role recorded is the session's login, whoever calls")
    func databaseRole() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let role = "audit_role_\(UUID().uuidString.prefix(8).lowercased())"
            try await f.sql("CREATE ROLE \(role) IN ROLE auth_admin")
            try await f.sql("SET SESSION AUTHORIZATION \(role)")
            _ = try await f.auth.createUserGroup(tenant: tenant, code: "BY_ROLE", name: "By role")
            try await f.sql("RESET SESSION AUTHORIZATION")
            _ = try await f.auth.createUserGroup(tenant: tenant, code: "BY_ADMIN", name: "By admin")
            try await f.sql("DROP OWNED BY \(role)")
            try await f.sql("DROP ROLE \(role)")

            let entries = try await f.auth.auditLog(tenant: tenant).filter { $0.action == "user_group.insert" }
            let roles = try Dictionary(uniqueKeysWithValues: entries.map { (try Self.string($0, "new", "code") ?? "", $0.databaseRole) })
            #expect(roles == ["BY_ROLE": role, "BY_ADMIN": try await Self.sessionUser(f)])
        }
    }

    @Test("direct UPDATE, INSERT and DELETE on the tables are recorded like function calls, with old and new rows")
    func entriesForDirectDML() async throws {
        try await AuthFixture.run { f in
            let admin = try await f.user("admin")
            let tenant = try await f.tenant()
            let member = try await f.member(of: tenant)
            let newcomer = try await f.user("newcomer")
            try await f.connection.withTransaction { connection in
                try await AuthClient(connection).setActor(admin)
                try await connection.query("UPDATE auth.tenant SET is_active = false, updated_at = now() WHERE tenant_id = $1", [tenant])
                try await connection.query("INSERT INTO auth.tenant_user (tenant_id, user_id) VALUES ($1, $2)", [tenant, newcomer])
                try await connection.query("DELETE FROM auth.tenant_user WHERE tenant_id = $1 AND user_id = $2", [tenant, member])
            }
            let entries = try await f.auth.auditLog(tenant: tenant)
            let role = try await Self.sessionUser(f)

            let update = try #require(entries.first { $0.action == "tenant.update" })
            #expect(try Self.row(update, "old")?["is_active"] as? Bool == true)
            #expect(try Self.row(update, "new")?["is_active"] as? Bool == false)
            let insert = try #require(entries.first { $0.action == "tenant_user.insert" && (try? Self.string($0, "new", "user_id")) == newcomer.description })
            #expect(try Self.row(insert, "old") == nil)
            let delete = try #require(entries.first { $0.action == "tenant_user.delete" })
            #expect(try Self.string(delete, "old", "user_id") == member.description)
            #expect(try Self.row(delete, "new") == nil)
            for entry in [update, insert, delete] {
                #expect(entry.actor == admin, "\(entry.action)")
                #expect(entry.tenantID == tenant, "\(entry.action)")
                #expect(entry.databaseRole == role, "\(entry.action)")
            }
        }
    }

    @Test("the reference's direct ownership transfer is recorded as an owner update")
    func directOwnerUpdate() async throws {
        try await AuthFixture.run { f in
            let owner = try await f.user("owner")
            let tenant = try await f.tenant(owner: owner)
            let successor = try await f.member(of: tenant)
            try await f.sql("UPDATE auth.owner SET user_id = $1 WHERE tenant_id = $2", [successor, tenant])
            let entry = try #require(try await f.auth.auditLog(tenant: tenant).first { $0.action == "owner.update" })
            #expect(try Self.string(entry, "old", "user_id") == owner.description)
            #expect(try Self.string(entry, "new", "user_id") == successor.description)
        }
    }

    @Test("an UPDATE that changes nothing is not recorded")
    func noOpUpdate() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let before = try await f.auth.auditLog(tenant: tenant, limit: nil)
            try await f.sql("UPDATE auth.tenant SET name = name, is_active = is_active WHERE tenant_id = $1", [tenant])
            try await f.auth.activateTenant(tenant)
            #expect(try await f.auth.auditLog(tenant: tenant, limit: nil) == before)
        }
    }

    @Test("each kind of change in a tenant is recorded under that tenant")
    func everyKindOfChange() async throws {
        try await AuthFixture.run { f in
            let owner = try await f.user("owner")
            let tenant = try await f.tenant(owner: owner)
            try await f.catalogue(["docs.read"])
            let user = try await f.member(of: tenant)
            _ = try await f.auth.createPermSet(tenant: tenant, code: "DOCS", name: "Docs")
            try await f.auth.addPermSetPermissions(tenant: tenant, permSet: "DOCS", codes: ["docs.read"])
            let group = try await f.auth.createUserGroup(tenant: tenant, code: "TEAM", name: "Team")
            try await f.auth.addUserToGroup(tenant: tenant, group: group, user: user)
            try await f.auth.assignGroupOwner(tenant: tenant, group: group, user: user)
            try await f.auth.assignPermission(tenant: tenant, to: .group(group), grant: .permSet("DOCS"))
            try await f.auth.deactivateUserGroup(tenant: tenant, group: group)

            let actions = Set(try await f.auth.auditLog(tenant: tenant, limit: nil).map(\.action))
            #expect(actions == ["tenant.insert", "tenant_user.insert", "owner.insert", "perm_set.insert",
                                "perm_set_permission.insert", "user_group.insert", "user_group_member.insert",
                                "permission_assignment.insert", "user_group.update"])
        }
    }

    @Test("codes put into or taken out of a set, and the set's deletion, are recorded under the set's tenant")
    func setContentsCarryTheTenant() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            try await f.catalogue(["docs.read", "docs.write"])
            _ = try await f.auth.createPermSet(tenant: tenant, code: "DOCS", name: "Docs")
            try await f.auth.addPermSetPermissions(tenant: tenant, permSet: "DOCS", codes: ["docs.read", "docs.write"])
            try await f.auth.removePermSetPermissions(tenant: tenant, permSet: "DOCS", codes: ["docs.write"])
            try await f.auth.deletePermSet(tenant: tenant, code: "DOCS")

            let actions = try await f.auth.auditLog(tenant: tenant, limit: nil).map(\.action)
            #expect(actions.filter { $0 == "perm_set_permission.insert" }.count == 2)
            // One removed by remove_perm_set_permissions, one with the set.
            #expect(actions.filter { $0 == "perm_set_permission.delete" }.count == 2)
            #expect(actions.contains("perm_set.delete"))
            #expect(try await f.sql("SELECT count(*) FROM auth.audit_log WHERE tenant_id IS NULL AND action LIKE 'perm_set%'")
                .scalar(Int.self) == 0)
        }
    }

    @Test("a set deleted by direct DML or with its tenant has its codes' removal recorded under the tenant")
    func setContentsDeletedWithSetOrTenant() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            try await f.catalogue(["docs.read", "docs.write"])
            for code in ["FIRST", "SECOND"] {
                _ = try await f.auth.createPermSet(tenant: tenant, code: code, name: code)
                try await f.auth.addPermSetPermissions(tenant: tenant, permSet: code, codes: ["docs.read", "docs.write"])
            }
            try await f.sql("DELETE FROM auth.perm_set WHERE tenant_id = $1 AND code = 'FIRST'", [tenant])
            #expect(try await f.auth.auditLog(tenant: tenant, limit: nil)
                .filter { $0.action == "perm_set_permission.delete" }.count == 2)

            try await f.auth.deleteTenant(tenant)
            let deletions = try await f.auth.auditLog(tenant: tenant, limit: nil).filter { $0.action == "perm_set_permission.delete" }
            #expect(deletions.count == 4)
            #expect(try await f.sql("SELECT count(*) FROM auth.audit_log WHERE tenant_id IS NULL AND action LIKE 'perm_set%'")
                .scalar(Int.self) == 0)
        }
    }

    @Test("changes to users, the catalogue and templates have no tenant and appear in no tenant's log")
    func globalChanges() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let before = try await f.auth.auditLog(tenant: tenant, limit: nil)
            let user = try await f.user("global")
            try await f.catalogue(["docs.read"])
            _ = try await f.auth.createPermSet(tenant: nil, code: "TPL", name: "Template")
            try await f.auth.addPermSetPermissions(tenant: nil, permSet: "TPL", codes: ["docs.read"])
            #expect(try await f.auth.auditLog(tenant: tenant, limit: nil) == before)

            let global = try await f.sql("SELECT action FROM auth.audit_log WHERE tenant_id IS NULL ORDER BY audit_id")
                .map { try $0.decode(String.self, at: 0) }
            #expect(global.contains("user_info.insert"))
            #expect(global.contains("permission.insert"))
            #expect(global.contains("perm_set.insert"))
            #expect(global.contains("perm_set_permission.insert"))
            let userEntry = try await f.sql("SELECT count(*) FROM auth.audit_log WHERE action = 'user_info.insert' AND details->'new'->>'user_id' = $1",
                                            [user.description]).scalar(Int.self)
            #expect(userEntry == 1)
        }
    }

    // MARK: get_audit_log

    @Test("get_audit_log returns only the tenant's entries")
    func onlyTheTenant() async throws {
        try await AuthFixture.run { f in
            let a = try await f.tenant("A")
            let b = try await f.tenant("B")
            _ = try await f.auth.createUserGroup(tenant: a, code: "IN_A", name: "In A")
            _ = try await f.auth.createUserGroup(tenant: b, code: "IN_B", name: "In B")
            let entriesA = try await f.auth.auditLog(tenant: a, limit: nil)
            #expect(entriesA.allSatisfy { $0.tenantID == a })
            #expect(try Self.createdGroups(entriesA) == ["IN_A"])
            #expect(try Self.createdGroups(try await f.auth.auditLog(tenant: b, limit: nil)) == ["IN_B"])
            #expect(try await f.auth.auditLog(tenant: TenantID(UUID())).isEmpty)
        }
    }

    @Test("get_audit_log lists entries newest first")
    func newestFirst() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let user = try await f.member(of: tenant)
            let group = try await f.auth.createUserGroup(tenant: tenant, code: "TEAM", name: "Team")
            try await f.auth.addUserToGroup(tenant: tenant, group: group, user: user)
            try await f.auth.deactivateUserGroup(tenant: tenant, group: group)

            let entries = try await f.auth.auditLog(tenant: tenant, limit: nil)
            #expect(entries.map(\.action) == ["user_group.update", "user_group_member.insert", "user_group.insert",
                                              "tenant_user.insert", "tenant.insert"])
            for (newer, older) in zip(entries, entries.dropFirst()) {
                #expect(newer.occurredAt >= older.occurredAt)
                #expect(newer.id > older.id)
            }
        }
    }

    @Test("since is inclusive and until exclusive, alone or together")
    func sinceAndUntil() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            _ = try await f.auth.createUserGroup(tenant: tenant, code: "ONE", name: "One")
            let mark1 = try await Self.now(f)
            _ = try await f.auth.createUserGroup(tenant: tenant, code: "TWO", name: "Two")
            let mark2 = try await Self.now(f)
            _ = try await f.auth.createUserGroup(tenant: tenant, code: "THREE", name: "Three")

            #expect(try Self.createdGroups(try await f.auth.auditLog(tenant: tenant, since: mark1)) == ["THREE", "TWO"])
            #expect(try Self.createdGroups(try await f.auth.auditLog(tenant: tenant, until: mark2)) == ["TWO", "ONE"])
            #expect(try Self.createdGroups(try await f.auth.auditLog(tenant: tenant, since: mark1, until: mark2)) == ["TWO"])
            #expect(try await f.auth.auditLog(tenant: tenant, since: mark2, until: mark1).isEmpty)

            // The bounds, exactly at an entry's time.
            let two = try #require(try await f.auth.auditLog(tenant: tenant, since: mark1, until: mark2).first)
            #expect(try await f.auth.auditLog(tenant: tenant, since: two.occurredAt).contains(two))
            #expect(try await !f.auth.auditLog(tenant: tenant, until: two.occurredAt).contains(two))
        }
    }

    @Test("an entry's time read back is exactly its time on the server: inside since, outside until")
    func boundsAtEntryTimes() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            try await f.sql("INSERT INTO auth.user_info (username) SELECT 'bulk-' || g FROM generate_series(1, 50) AS g")
            try await f.sql("INSERT INTO auth.tenant_user (tenant_id, user_id) SELECT $1, user_id FROM auth.user_info WHERE username LIKE 'bulk-%'",
                            [tenant])
            let entries = try await f.auth.auditLog(tenant: tenant, limit: nil)
            #expect(entries.count == 51)
            for entry in entries {
                // The Date read back goes back to the server as the very same timestamp: a bound
                // taken from an entry means that entry's time, not a microsecond before it.
                #expect(try await f.sql("SELECT occurred_at = $1 FROM auth.audit_log WHERE audit_id = $2", [entry.occurredAt, entry.id])
                    .scalar(Bool.self), "\(entry.occurredAt.timeIntervalSince1970)")
                #expect(try await f.auth.auditLog(tenant: tenant, since: entry.occurredAt, limit: nil).contains(entry),
                        "since \(entry.occurredAt.timeIntervalSince1970)")
                #expect(try await !f.auth.auditLog(tenant: tenant, until: entry.occurredAt, limit: nil).contains(entry),
                        "until \(entry.occurredAt.timeIntervalSince1970)")
            }
        }
    }

    @Test("get_audit_log returns 100 entries by default, the newest ones, fewer with a limit and all with none")
    func limit() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            try await f.sql("INSERT INTO auth.user_info (username) SELECT 'bulk-' || g FROM generate_series(1, 120) AS g")
            try await f.sql("INSERT INTO auth.tenant_user (tenant_id, user_id) SELECT $1, user_id FROM auth.user_info WHERE username LIKE 'bulk-%'",
                            [tenant])
            let all = try await f.auth.auditLog(tenant: tenant, limit: nil)
            #expect(all.count == 121)
            #expect(all.last?.action == "tenant.insert")

            let page = try await f.auth.auditLog(tenant: tenant)
            #expect(page == Array(all.prefix(100)))
            #expect(try await f.auth.auditLog(tenant: tenant, limit: 1) == [all[0]])
            #expect(try await f.auth.auditLog(tenant: tenant, limit: 500) == all)

            await expectError(.invalidArgument) { _ = try await f.auth.auditLog(tenant: tenant, limit: 0) }
            await expectError(.invalidArgument) { _ = try await f.auth.auditLog(tenant: tenant, limit: -1) }
        }
    }

    @Test("get_audit_log with no tenant returns the entries without one: users, passwords, the catalogue, templates; none of a tenant")
    func tenantLessEntries() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            _ = try await f.auth.createUserGroup(tenant: tenant, code: "TEAM", name: "Team")
            let mark = try await Self.now(f)
            let user = try await f.user("global")
            try await f.sql("SET auth.bcrypt_cost = 4")
            try await f.auth.setUserPassword(user, password: "correct horse battery")
            try await f.catalogue(["docs.read"])
            _ = try await f.auth.createPermSet(tenant: nil, code: "TPL", name: "Template")
            try await f.auth.addPermSetPermissions(tenant: nil, permSet: "TPL", codes: ["docs.read"])
            try await f.auth.deleteUser(user)

            let entries = try await f.auth.auditLog(tenant: nil, since: mark, limit: nil)
            #expect(entries.allSatisfy { $0.tenantID == nil })
            #expect(entries.map(\.action).sorted() == ["perm_set.insert", "perm_set_permission.insert", "permission.insert",
                                                       "permission.insert", "user_info.delete", "user_info.insert",
                                                       "user_password.delete", "user_password.insert"])
            #expect(entries.last?.action == "user_info.insert")
            #expect(try await f.auth.auditLog(tenant: nil, since: mark, limit: 2) == Array(entries.prefix(2)))
            #expect(try await !f.auth.auditLog(tenant: nil, limit: nil).contains { $0.action.hasPrefix("user_group") })
            #expect(try await f.auth.auditLog(tenant: tenant, limit: nil).allSatisfy { $0.tenantID == tenant })
            await expectError(.invalidArgument) { _ = try await f.auth.auditLog(tenant: nil, limit: 0) }
        }
    }

    @Test("the history of a deleted tenant stays readable, its deletion included")
    func deletedTenant() async throws {
        try await AuthFixture.run { f in
            let admin = try await f.user("admin")
            let tenant = try await f.tenant()
            _ = try await f.auth.createUserGroup(tenant: tenant, code: "TEAM", name: "Team")
            try await f.connection.withTransaction { connection in
                let auth = AuthClient(connection)
                try await auth.setActor(admin)
                try await auth.deleteTenant(tenant)
            }
            let entries = try await f.auth.auditLog(tenant: tenant, limit: nil)
            let deletion = try #require(entries.first { $0.action == "tenant.delete" })
            #expect(deletion.actor == admin)
            #expect(entries.contains { $0.action == "user_group.delete" && $0.actor == admin })
            #expect(entries.contains { $0.action == "user_group.insert" })
            #expect(entries.last?.action == "tenant.insert")
        }
    }
}
