import Foundation
import HTTPTypes
import Testing

/// Who may do what through the tenant API, and what never crosses from one tenant to another.
@Suite("Tenant API: the code each route requires, the roles, other tenants, statistics, audit and preferences")
struct TenantAdministrationRulesTests {
    /// Every administrative route with the code it requires (README, "The tenant API").
    static func routes(user: String, group: String) -> [(HTTPRequest.Method, String, [String: Any]?, String)] {
        [
            (.get, "users", nil, "users.view"),
            (.get, "users/\(user)", nil, "users.view"),
            (.post, "users", ["username": "intruder"], "users.create_user"),
            (.patch, "users/\(user)", ["display_name": "Changed"], "users.update_user"),
            (.put, "users/\(user)/password", ["password": "a long password"], "users.update_user"),
            (.post, "users/\(user)/deactivate", nil, "users.deactivate_user"),
            (.post, "users/\(user)/activate", nil, "users.deactivate_user"),
            (.delete, "users/\(user)", nil, "users.deactivate_user"),
            (.get, "users/\(user)/permissions", nil, "permissions.view"),
            (.get, "users/\(user)/permissions/users.view", nil, "permissions.view"),
            (.get, "groups", nil, "groups.view"),
            (.get, "groups/\(group)", nil, "groups.view"),
            (.get, "groups/\(group)/members", nil, "groups.view"),
            (.get, "groups/\(group)/owners", nil, "groups.view"),
            (.post, "groups", ["code": "new", "name": "New"], "groups.manage"),
            (.patch, "groups/\(group)", ["name": "Changed"], "groups.manage"),
            (.post, "groups/\(group)/deactivate", nil, "groups.manage"),
            (.post, "groups/\(group)/activate", nil, "groups.manage"),
            (.delete, "groups/\(group)", nil, "groups.manage"),
            (.put, "groups/\(group)/members/\(user)", nil, "groups.manage"),
            (.delete, "groups/\(group)/members/\(user)", nil, "groups.manage"),
            (.put, "groups/\(group)/owners/\(user)", nil, "groups.manage"),
            (.delete, "groups/\(group)/owners/\(user)", nil, "groups.manage"),
            (.get, "perm-sets", nil, "permissions.view"),
            (.get, "perm-set-templates", nil, "permissions.view"),
            (.get, "perm-sets/USER", nil, "permissions.view"),
            (.get, "perm-sets/USER/permissions", nil, "permissions.view"),
            (.post, "perm-sets", ["code": "NEW", "name": "New"], "permissions.assign"),
            (.post, "perm-sets/from-template", ["template_code": "USER"], "permissions.assign"),
            (.patch, "perm-sets/USER", ["name": "Changed"], "permissions.assign"),
            (.delete, "perm-sets/USER?force=true", nil, "permissions.assign"),
            (.post, "perm-sets/USER/permissions", ["perm_codes": ["users"]], "permissions.assign"),
            (.delete, "perm-sets/USER/permissions/users.view", nil, "permissions.assign"),
            (.get, "assignments", nil, "permissions.view"),
            (.post, "assignments", ["user_id": user, "perm_set_code": "ADMIN"], "permissions.assign"),
            (.delete, "assignments?user_id=\(user)&perm_set_code=USER", nil, "permissions.assign"),
            (.get, "catalogue", nil, "permissions.view"),
            (.get, "statistics", nil, "tenant.view_settings"),
            (.get, "audit-log", nil, "tenant.update_settings"),
            (.get, "api-keys", nil, "permissions.view"),
            (.post, "api-keys", ["name": "k", "expires_at": "2999-01-01T00:00:00Z", "perm_codes": ["users.view"]], "permissions.assign"),
            (.put, "second-factor/policy", ["policy": "optional"], "tenant.update_settings"),
            (.delete, "users/\(user)/second-factor", nil, "users.update_user"),
        ]
    }

    @Test("a member without the route's code gets 403 42501 and nothing changes; the roles grant what the table says")
    func requiredCodes() async throws {
        try await PortalFixture.run { fixture, client in
            let admin = try await fixture.tenantAdmin("acme", like: client)
            let group = try await admin.send(.post, "groups", json: ["code": "ops", "name": "Ops"]).json["user_group_id"] as? String ?? ""
            let (target, _) = try await fixture.tenantMember("target", holding: "USER", by: admin)
            try await admin.send(.put, "groups/\(group)/members/\(target)")
            let (_, nobody) = try await fixture.tenantMember("nobody", holding: nil, by: admin)
            let (_, reader) = try await fixture.tenantMember("reader", holding: "USER", by: admin)
            let (_, superuser) = try await fixture.tenantMember("super", holding: "SUPERUSER", by: admin)
            let lastChange = { try await admin.get("audit-log?limit=1").json["items"].flatMap { ($0 as? [[String: Any]])?.first?["audit_id"] as? Int } }
            let before = try await lastChange()

            // USER: users.view, groups.view, tenant.view_settings. SUPERUSER adds the other views and tenant.*.
            let held: [String: Set<String>] = [
                "nobody": [],
                "reader": ["users.view", "groups.view", "tenant.view_settings"],
                "super": ["users.view", "groups.view", "permissions.view", "tenant.view_settings", "tenant.update_settings"],
            ]
            for (name, api) in [("nobody", nobody), ("reader", reader), ("super", superuser)] {
                for (method, path, body, code) in Self.routes(user: target, group: group) {
                    let reply = try await api.send(method, path, json: body)
                    if held[name]!.contains(code) {
                        #expect(reply.status.code < 400, "\(name) holds \(code): \(method) \(path) → \(reply.status) \(reply.error)")
                    } else {
                        #expect(reply.status == .forbidden && reply.errorCode == "42501",
                                "\(name) lacks \(code): \(method) \(path) → \(reply.status)")
                    }
                }
            }
            #expect(try await lastChange() == before, "no refused request changed anything")
            #expect(try await admin.get("users/\(target)").json["display_name"] == nil)
        }
    }

    @Test("another tenant's users, groups and sets are unknown here, and its session opens nothing here")
    func crossTenant() async throws {
        try await PortalFixture.run { fixture, client in
            let acme = try await fixture.tenantAdmin("acme", like: client)
            let beta = try await fixture.tenantAdmin("beta", like: client)
            let theirUser = try await beta.send(.post, "users", json: ["username": "theirs"]).json["user_id"] as? String ?? ""
            let theirGroup = try await beta.send(.post, "groups", json: ["code": "theirs", "name": "Theirs"]).json["user_group_id"] as? String ?? ""
            try await beta.send(.post, "perm-sets", json: ["code": "THEIRS", "name": "Theirs"])

            for path in ["users/\(theirUser)", "groups/\(theirGroup)", "perm-sets/THEIRS", "groups/\(theirGroup)/members",
                         "users/\(theirUser)/permissions"] {
                #expect(try await acme.get(path).status == .notFound, "\(path)")
            }
            #expect(try await acme.send(.patch, "users/\(theirUser)", json: ["display_name": "Mine"]).status == .notFound)
            #expect(try await acme.send(.post, "users/\(theirUser)/deactivate").status == .notFound)
            #expect(try await acme.send(.put, "users/\(theirUser)/password", json: ["password": "taken over!"]).status == .notFound)
            #expect(try await acme.send(.post, "assignments", json: ["user_id": theirUser, "perm_set_code": "ADMIN"]).status == .notFound)
            #expect(try await beta.get("users/\(theirUser)").json["display_name"] == nil)
            #expect(try await beta.get("users/\(theirUser)").json["is_active"] as? Bool == true)
            // acme's session is no session at beta's address.
            #expect(try await acme.client.get("/t/beta/api/users").status == .unauthorized)
        }
    }

    @Test("statistics count what the tenant holds; the audit log names who did what, by action and actor, page by page")
    func statisticsAndAudit() async throws {
        try await PortalFixture.run { fixture, client in
            let admin = try await fixture.tenantAdmin("acme", like: client)
            let before = try await admin.get("statistics").json
            try await admin.send(.post, "users", json: ["username": "ann"])
            try await admin.send(.post, "groups", json: ["code": "ops", "name": "Ops"])
            let after = try await admin.get("statistics").json
            #expect(after["user_count"] as? Int == (before["user_count"] as? Int ?? 0) + 1)
            #expect(after["group_count"] as? Int == (before["group_count"] as? Int ?? 0) + 1)
            #expect(after["tenant_name"] as? String == "Acme")

            let me = try await admin.get("session").json["user_id"] as? String ?? ""
            let groups = try await admin.get("audit-log?action=user_group.insert").json["items"] as? [[String: Any]] ?? []
            #expect(groups.count == 1)
            #expect(groups.first?["actor_user_id"] as? String == me, "the signed-in user is the actor")
            #expect((groups.first?["details"] as? [String: Any])?["new"] != nil)
            let users = try await admin.get("audit-log?action=user_info&actor_user_id=\(me)").json["items"] as? [[String: Any]] ?? []
            #expect(users.contains { $0["action"] as? String == "user_info.insert" }, "the database's users are the tenant's")
            let pages = try await admin.walk("audit-log?actor_user_id=\(me)", limit: 2)
            let ids = pages.flatMap { $0 }.compactMap { $0["audit_id"] as? Int }
            #expect(ids == ids.sorted(by: >) && Set(ids).count == ids.count)
            #expect(try await admin.get("audit-log?after=\(PageCursor.encode("x"))").errorCode == "invalid_parameter")
            #expect(try await admin.get("audit-log?actor_user_id=me").errorCode == "invalid_parameter")
        }
    }

    @Test("each member reads and changes their own preferences, keys exactly as written")
    func preferences() async throws {
        try await PortalFixture.run { fixture, client in
            let admin = try await fixture.tenantAdmin("acme", like: client)
            let (_, member) = try await fixture.tenantMember("ann", holding: nil, by: admin)
            #expect(try await member.send(.put, "preferences/themeColor", json: ["value": "dark"]).status == .noContent)
            #expect(try await member.send(.put, "preferences/language", json: ["value": "fr"]).status == .noContent)
            #expect(try await member.send(.put, "preferences/language", json: ["value": "de"]).status == .noContent)
            let mine = try await member.get("preferences").json["preferences"] as? [[String: String]]
            #expect(mine == [["key": "language", "value": "de"], ["key": "themeColor", "value": "dark"]])
            #expect((try await admin.get("preferences").json["preferences"] as? [[String: String]])?.isEmpty == true)
            #expect(try await member.send(.delete, "preferences/language").status == .noContent)
            #expect((try await member.get("preferences").json["preferences"] as? [[String: String]])?.count == 1)
            #expect(try await member.send(.put, "preferences/x", json: ["value": 3]).errorCode == "invalid_field")
        }
    }
}
