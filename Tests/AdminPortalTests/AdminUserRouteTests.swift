import Foundation
import HTTPTypes
import Testing

@Suite("Admin portal: the Admin Users tab's API")
struct AdminUserRouteTests {
    @Test("a superadmin creates an admin (generated password shown once, and it works), grants, revokes, resets, deletes")
    func lifecycle() async throws {
        try await PortalFixture.run { fixture, client in
            _ = try await fixture.createTenant("acme")
            try await fixture.signInAdmin(client)

            let created = try await client.send(.post, "/admin/api/admin-users", json: ["email": "Eu@Example.com", "role": "admin"])
            #expect(created.status == .created)
            let password = try #require(created.json["generated_password"] as? String)
            let user = try #require(created.json["admin_user"] as? [String: Any])
            let id = try #require(user["id"] as? String)
            #expect(user["role"] as? String == "admin" && user["is_active"] as? Bool == true)
            #expect(try await client.send(.post, "/admin/api/admin-users", json: ["email": "eu@example.com", "role": "admin"]).errorCode
                    == "admin_user_exists")
            let chosen = try await client.send(.post, "/admin/api/admin-users",
                                               json: ["email": "two@example.com", "role": "superadmin", "password": "a long passphrase"])
            #expect(chosen.json["generated_password"] == nil, "a chosen password is never echoed")

            let granted = try await client.send(.put, "/admin/api/admin-users/\(id)/tenants/acme")
            #expect(granted.json["tenant_slugs"] as? [String] == ["acme"])
            #expect(try await client.get("/admin/api/admin-users").jsonArray.count == 3)
            #expect(try await client.get("/admin/api/admin-users/eu@example.com").json["id"] as? String == id)

            let eu = fixture.newClient(like: client)
            #expect(try await fixture.signInAdmin(eu, email: "eu@example.com", password: password).status == .ok)
            #expect(try await eu.get("/admin/api/tenants").list("tenants").count == 1)

            // A new password ends their sessions; the generated one is answered once.
            let reset = try await client.send(.post, "/admin/api/admin-users/\(id)/password", json: [:])
            let newPassword = try #require(reset.json["generated_password"] as? String)
            #expect(try await eu.get("/admin/api/session").status == .unauthorized)
            #expect(try await fixture.signInAdmin(eu, email: "eu@example.com", password: newPassword).status == .ok)
            #expect(try await client.send(.post, "/admin/api/admin-users/\(id)/password", json: ["password": "short"]).errorCode == "weak_password")

            // Deactivation ends them too, and re-activation does not bring the session back.
            #expect(try await client.send(.patch, "/admin/api/admin-users/\(id)", json: ["is_active": false]).json["is_active"] as? Bool == false)
            #expect(try await eu.get("/admin/api/session").status == .unauthorized)
            #expect(try await client.send(.patch, "/admin/api/admin-users/\(id)", json: ["is_active": true]).json["is_active"] as? Bool == true)
            #expect(try await eu.get("/admin/api/session").status == .unauthorized)

            // Revoking the last tenant signs them out.
            #expect(try await fixture.signInAdmin(eu, email: "eu@example.com", password: newPassword).status == .ok)
            #expect(try await client.send(.delete, "/admin/api/admin-users/\(id)/tenants/acme").json["tenant_slugs"] as? [String] == [])
            #expect(try await eu.get("/admin/api/session").status == .unauthorized)
            #expect(try await client.send(.delete, "/admin/api/admin-users/\(id)/tenants/acme").errorCode == "not_assigned")

            // Promotion and demotion.
            #expect(try await client.send(.patch, "/admin/api/admin-users/\(id)", json: ["role": "superadmin"]).json["role"] as? String == "superadmin")
            #expect(try await client.send(.put, "/admin/api/admin-users/\(id)/tenants/acme").errorCode == "superadmin_not_scoped")
            #expect(try await client.send(.patch, "/admin/api/admin-users/\(id)", json: ["role": "admin"]).json["role"] as? String == "admin")

            #expect(try await client.send(.delete, "/admin/api/admin-users/\(id)").status == .noContent)
            #expect(try await client.get("/admin/api/admin-users/\(id)").errorCode == "unknown_admin_user")
            let actions = try await fixture.platform.auditActions()
            for action in ["admin_user.create", "admin_user.grant", "admin_user.password", "admin_user.deactivate", "admin_user.activate",
                           "admin_user.revoke", "admin_user.role", "admin_user.delete"] {
                #expect(actions.contains(action), "\(action)")
            }
        }
    }

    @Test("the last active superadmin cannot be deleted, deactivated or demoted; nobody deletes or deactivates themself")
    func lastSuperadmin() async throws {
        try await PortalFixture.run { fixture, client in
            try await fixture.signInAdmin(client)
            let root = try await fixture.admins.require(PortalFixture.superadminEmail).id.description
            let demote = try await client.send(.patch, "/admin/api/admin-users/\(root)", json: ["role": "admin"])
            #expect(demote.status == .conflict && demote.errorCode == "last_superadmin")
            // Through the API only the last superadmin themself can try to delete or deactivate it: own_account
            // answers first (the platform's rule, last_superadmin, is tested on AdminUserStore).
            #expect(try await client.send(.delete, "/admin/api/admin-users/\(root)").errorCode == "own_account")
            #expect(try await client.send(.patch, "/admin/api/admin-users/\(root)", json: ["is_active": false]).errorCode == "own_account")

            // With a second superadmin, still not yourself; the other may go, then you are the last again.
            let other = try #require(try await client.send(.post, "/admin/api/admin-users",
                                                           json: ["email": "two@example.com", "role": "superadmin"]).json["admin_user"] as? [String: Any])
            let otherID = try #require(other["id"] as? String)
            let own = try await client.send(.delete, "/admin/api/admin-users/\(root)")
            #expect(own.status == .conflict && own.errorCode == "own_account", "not yourself")
            #expect(try await client.send(.patch, "/admin/api/admin-users/\(root)", json: ["is_active": false]).errorCode == "own_account")
            // An inactive superadmin does not count as the other one.
            #expect(try await client.send(.patch, "/admin/api/admin-users/\(otherID)", json: ["is_active": false]).status == .ok)
            #expect(try await client.send(.patch, "/admin/api/admin-users/\(root)", json: ["role": "admin"]).errorCode == "last_superadmin")
            #expect(try await client.send(.patch, "/admin/api/admin-users/\(otherID)", json: ["is_active": true]).status == .ok)
            #expect(try await client.send(.delete, "/admin/api/admin-users/\(otherID)").status == .noContent)
            #expect(try await client.send(.patch, "/admin/api/admin-users/\(root)", json: ["role": "admin"]).errorCode == "last_superadmin")
            #expect(try await fixture.admins.require(root).isSuperadmin)
        }
    }

    @Test("two superadmins demoting each other at once: one succeeds, the other is refused")
    func concurrentDemotions() async throws {
        try await PortalFixture.run { fixture, client in
            let two = try await fixture.admins.create(email: "two@example.com", password: PortalFixture.password, superadmin: true)
            let root = try await fixture.admins.require(PortalFixture.superadminEmail)
            let admins = fixture.admins
            let results = await withTaskGroup(of: Bool.self) { group in
                for id in [root.id, two.user.id] {
                    group.addTask { (try? await admins.setRole(id.description, .admin)) != nil }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.filter { $0 }.count == 1)
            #expect(try await admins.all().filter { $0.isSuperadmin && $0.isActive }.count == 1)
        }
    }

    @Test("a PATCH of role and activity is one change: when its second half fails, the first is undone too")
    func roleAndActivityTogether() async throws {
        try await PortalFixture.run { fixture, client in
            try await fixture.signInAdmin(client)
            let two = try await fixture.admins.create(email: "two@example.com", password: PortalFixture.password, superadmin: true)
            let path = "/admin/api/admin-users/\(two.user.id)"
            let audit = try await fixture.platform.auditActions()
            // The deactivation's audit row cannot be written: the demotion before it must not stay.
            _ = try await fixture.platform.masterStrings("""
                CREATE FUNCTION platform.refuse_deactivation() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN IF NEW.action = 'admin_user.deactivate' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$
                """)
            _ = try await fixture.platform.masterStrings("""
                CREATE TRIGGER refuse_deactivation BEFORE INSERT ON platform.audit_log
                FOR EACH ROW EXECUTE FUNCTION platform.refuse_deactivation()
                """)
            #expect(try await client.send(.patch, path, json: ["role": "admin", "is_active": false]).status == .internalServerError)
            let unchanged = try await fixture.admins.require("two@example.com")
            #expect(unchanged.isSuperadmin && unchanged.isActive)
            #expect(try await fixture.platform.auditActions() == audit)

            _ = try await fixture.platform.masterStrings("DROP FUNCTION platform.refuse_deactivation() CASCADE")
            let both = try await client.send(.patch, path, json: ["role": "admin", "is_active": false])
            #expect(both.status == .ok && both.json["role"] as? String == "admin" && both.json["is_active"] as? Bool == false)
            #expect(try await fixture.platform.auditActions().suffix(2) == ["admin_user.role", "admin_user.deactivate"])
        }
    }

    @Test("a regular admin gets 403 on every admin-users route; signed out is 401; bad input 400")
    func roles() async throws {
        try await PortalFixture.run { fixture, client in
            _ = try await fixture.createTenant("acme")
            _ = try await fixture.admins.create(email: "eu@example.com", password: PortalFixture.password, superadmin: false)
            try await fixture.admins.grant(tenant: "acme", to: "eu@example.com")
            let root = try await fixture.admins.require(PortalFixture.superadminEmail).id.description
            let routes: [(HTTPRequest.Method, String, [String: Any]?)] = [
                (.get, "/admin/api/admin-users", nil),
                (.post, "/admin/api/admin-users", ["email": "x@example.com", "role": "superadmin"]),
                (.get, "/admin/api/admin-users/\(root)", nil),
                (.patch, "/admin/api/admin-users/\(root)", ["is_active": false]),
                (.delete, "/admin/api/admin-users/\(root)", nil),
                (.post, "/admin/api/admin-users/\(root)/password", [:]),
                (.put, "/admin/api/admin-users/eu@example.com/tenants/acme", nil),
                (.delete, "/admin/api/admin-users/eu@example.com/tenants/acme", nil),
            ]
            let anonymous = fixture.newClient(like: client)
            for (method, uri, json) in routes {
                #expect(try await anonymous.send(method, uri, json: json).status == .unauthorized, "\(method) \(uri)")
            }
            try await fixture.signInAdmin(client, email: "eu@example.com")
            for (method, uri, json) in routes {
                #expect(try await client.send(method, uri, json: json).status == .forbidden, "\(method) \(uri)")
            }
            #expect(try await fixture.admins.all().count == 2)
            #expect(try await fixture.admins.require(root).isActive)

            let superadmin = fixture.newClient(like: client)
            try await fixture.signInAdmin(superadmin)
            #expect(try await superadmin.send(.post, "/admin/api/admin-users", json: ["email": "x@example.com", "role": "owner"]).errorCode
                    == "invalid_field")
            #expect(try await superadmin.send(.post, "/admin/api/admin-users", json: ["email": "not-an-email", "role": "admin"]).errorCode
                    == "invalid_email")
            #expect(try await superadmin.send(.post, "/admin/api/admin-users",
                                              json: ["email": "y@example.com", "role": "admin", "password": "short"]).errorCode == "weak_password")
            #expect(try await superadmin.get("/admin/api/admin-users/nobody@example.com").status == .notFound)
            #expect(try await superadmin.send(.put, "/admin/api/admin-users/eu@example.com/tenants/nope").errorCode == "unknown_tenant")
        }
    }
}
