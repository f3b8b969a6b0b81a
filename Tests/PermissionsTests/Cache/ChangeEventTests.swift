import Foundation
import Permissions
import PQ
import PostgresTestSupport
import Testing

/// The schema's change events (sql/functions/notifications.sql), read as a listener would.
@Suite("Change events: NOTIFY auth_access_changed at commit")
struct ChangeEventTests {
    @Test("a function's change names the tenant and the user, at commit and not before")
    func functionChange() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let user = try await f.member(of: tenant)
            try await f.catalogue(["users.view"])
            try await withEvents(f) { events in
                try await f.sql("BEGIN")
                try await f.auth.assignPermission(tenant: tenant, to: .user(user), grant: .permission("users.view"))
                #expect(try await events.next(within: .milliseconds(200)) == nil, "nothing before COMMIT")
                try await f.sql("COMMIT")
                let payload = try #require(try await events.next()).payload
                #expect(try json(payload) == ["tenant_id": tenant.rawValue.uuidString.lowercased(),
                                              "user_ids": [user.rawValue.uuidString.lowercased()]])
            }
        }
    }

    @Test("direct DML, cascades and deactivations notify too; a rollback, a check and a read-only transaction never do")
    func directDML() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let user = try await f.member(of: tenant)
            try await f.catalogue(["users.view"])
            try await f.auth.assignPermission(tenant: tenant, to: .user(user), grant: .permission("users.view"))
            try await withEvents(f) { events in
                let tenantText = tenant.rawValue.uuidString.lowercased()
                try await f.sql("BEGIN")
                try await f.sql("UPDATE auth.tenant SET is_active = false WHERE tenant_id = $1", [tenant])
                try await f.sql("ROLLBACK")
                _ = try await f.auth.hasPermission(tenant: tenant, user: user, code: "users.view")
                try await f.sql("BEGIN READ ONLY")
                _ = try await f.auth.hasPermission(tenant: tenant, user: user, code: "users.view")
                try await f.sql("COMMIT")
                #expect(try await events.next(within: .milliseconds(200)) == nil)

                try await f.sql("UPDATE auth.tenant SET is_active = false WHERE tenant_id = $1", [tenant])
                #expect(try json(try #require(try await events.next()).payload)["tenant_id"] as? String == tenantText)
                try await f.sql("UPDATE auth.tenant SET is_active = true WHERE tenant_id = $1", [tenant])
                #expect(try json(try #require(try await events.next()).payload)["tenant_id"] as? String == tenantText)
                // An update that changes nothing of a check notifies nothing.
                try await f.sql("UPDATE auth.tenant SET name = 'Renamed' WHERE tenant_id = $1", [tenant])
                #expect(try await events.next(within: .milliseconds(200)) == nil)
                // The membership's deletion cascades to its effective_access row.
                try await f.sql("DELETE FROM auth.tenant_user WHERE tenant_id = $1 AND user_id = $2", [tenant, user])
                #expect(try json(try #require(try await events.next()).payload)["user_ids"] as? [String] == [user.rawValue.uuidString.lowercased()])
            }
        }
    }

    @Test("a bulk statement names each tenant once, without its thousands of users")
    func bulk() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            try await f.sql("INSERT INTO auth.user_info (username) SELECT 'bulk' || g FROM generate_series(1, 2000) g")
            try await withEvents(f) { events in
                try await f.sql("""
                    INSERT INTO auth.tenant_user (tenant_id, user_id)
                    SELECT $1, user_id FROM auth.user_info WHERE username LIKE 'bulk%'
                    """, [tenant])
                let payload = try json(try #require(try await events.next()).payload)
                #expect(payload["tenant_id"] as? String == tenant.rawValue.uuidString.lowercased())
                #expect(payload["user_ids"] == nil, "the whole tenant")
                #expect(try await events.next(within: .milliseconds(200)) == nil, "once")
            }
        }
    }

    @Test("the catalogue notifies as a whole; a truncate of the check table names everything")
    func catalogueAndTruncate() async throws {
        try await AuthFixture.run { f in
            try await withEvents(f) { events in
                _ = try await f.auth.createPermission(code: "reports.view", name: "View reports")
                #expect(try json(try #require(try await events.next()).payload) == ["catalogue": true])
                try await f.sql("DELETE FROM auth.permission WHERE code::text = 'reports.view'")
                #expect(try json(try #require(try await events.next()).payload) == ["catalogue": true])
                try await f.sql("TRUNCATE auth.effective_access")
                #expect(try json(try #require(try await events.next()).payload) == ["all": true])
            }
        }
    }

    @Test("an administrator's direct DML notifies with the administrator's own rights")
    func adminRole() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let user = try await f.member(of: tenant)
            let (_, admin) = try await f.login(memberOf: "auth_admin")
            defer { Task { await admin.close() } }
            try await withEvents(f) { events in
                try await admin.query("UPDATE auth.tenant_user SET is_active = false WHERE tenant_id = $1 AND user_id = $2", [tenant, user])
                #expect(try json(try #require(try await events.next()).payload)["tenant_id"] as? String == tenant.rawValue.uuidString.lowercased())
            }
        }
    }
}

/// Runs `body` with a second connection listening to the change events.
private func withEvents(_ f: AuthFixture, _ body: (NotificationInbox) async throws -> Void) async throws {
    let listener = try await f.database.connect()
    let inbox = NotificationInbox(try await listener.listen("auth_access_changed"))
    do {
        try await body(inbox)
        await listener.close()
    } catch {
        await listener.close()
        throw error
    }
}

private func json(_ payload: String) throws -> NSDictionary {
    try #require(try JSONSerialization.jsonObject(with: Data(payload.utf8)) as? NSDictionary)
}

private func == (lhs: NSDictionary, rhs: [String: Any]) -> Bool { lhs.isEqual(to: rhs) }
