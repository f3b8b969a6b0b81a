import Foundation
import HTTPTypes
import Testing

@Suite("Tenant API: permission sets, assignments, the catalogue and why a user holds a code")
struct TenantPermissionAPITests {
    @Test("sets: create with codes, copy a template, change with If-Match, add and remove codes, delete an assigned one")
    func permSets() async throws {
        try await PortalFixture.run { fixture, client in
            let admin = try await fixture.tenantAdmin("acme", like: client)
            let created = try await admin.send(.post, "perm-sets", json: ["code": "READERS", "name": "Readers",
                                                                            "perm_codes": ["users.view", "groups.view"]])
            #expect(created.status == .created && created.json["permission_count"] as? Int == 2)
            #expect(created.headers[.location] == "perm-sets/READERS")
            let unknownCode = try await admin.send(.post, "perm-sets", json: ["code": "BAD", "name": "Bad", "perm_codes": ["no.such"]])
            #expect(unknownCode.status == .notFound && unknownCode.errorCode == "QN003")
            #expect(try await admin.get("perm-sets/BAD").status == .notFound, "the set of a refused request is not left behind")
            #expect(try await admin.send(.post, "perm-sets", json: ["code": "READERS", "name": "Again"]).errorCode == "QD003")

            let templates = try await admin.walk("perm-set-templates", limit: 2).flatMap { $0 }.compactMap { $0["code"] as? String }
            #expect(Set(["ADMIN", "SUPERUSER", "USER"]).isSubset(of: Set(templates)))
            // The tenant holds copies of the templates already: copying again is a conflict.
            #expect(try await admin.send(.post, "perm-sets/from-template", json: ["template_code": "USER"]).errorCode == "QD003")
            try await admin.send(.delete, "perm-sets/USER")
            let copied = try await admin.send(.post, "perm-sets/from-template", json: ["template_code": "USER"])
            #expect(copied.status == .created && copied.json["code"] as? String == "USER")
            #expect(try await admin.send(.post, "perm-sets/from-template", json: ["template_code": "NOPE"]).errorCode == "QN004")

            let etag = try #require(created.headers[.eTag])
            let changed = try await admin.send(.patch, "perm-sets/READERS", json: ["description": "Read only"], ifMatch: etag)
            #expect(changed.status == .ok && changed.json["description"] as? String == "Read only")
            #expect(try await admin.send(.patch, "perm-sets/READERS", json: ["name": "Lost"], ifMatch: etag).status == .preconditionFailed)

            let added = try await admin.send(.post, "perm-sets/READERS/permissions", json: ["perm_codes": ["permissions.view", "users.view"]])
            #expect(added.json["permission_count"] as? Int == 3)
            let codes = try await admin.walk("perm-sets/READERS/permissions", limit: 2).flatMap { $0 }.compactMap { $0["perm_code"] as? String }
            #expect(codes == ["groups.view", "permissions.view", "users.view"])
            #expect(try await admin.send(.delete, "perm-sets/READERS/permissions/groups.view").json["permission_count"] as? Int == 2)

            let user = try await admin.send(.post, "users", json: ["username": "ann"]).json["user_id"] as? String ?? ""
            #expect(try await admin.send(.post, "assignments", json: ["user_id": user, "perm_set_code": "READERS"]).status == .created)
            let inUse = try await admin.send(.delete, "perm-sets/READERS")
            #expect(inUse.status == .conflict && inUse.errorCode == "QS004")
            #expect(try await admin.send(.delete, "perm-sets/READERS?force=true").status == .noContent)
            #expect(try await admin.get("assignments?user_id=\(user)").json["items"].map { ($0 as? [[String: Any]])?.isEmpty } == true)
        }
    }

    @Test("assignments: to a user or a group, a set or a code; listed oldest first by filter and page; unassigned")
    func assignments() async throws {
        try await PortalFixture.run { fixture, client in
            let admin = try await fixture.tenantAdmin("acme", like: client)
            let user = try await admin.send(.post, "users", json: ["username": "ann"]).json["user_id"] as? String ?? ""
            let group = try await admin.send(.post, "groups", json: ["code": "ops", "name": "Ops"]).json["user_group_id"] as? String ?? ""
            let grants: [[String: Any]] = [["user_id": user, "perm_set_code": "USER"], ["user_id": user, "perm_code": "permissions.view"],
                                           ["user_group_id": group, "perm_set_code": "SUPERUSER"], ["user_group_id": group, "perm_code": "users"]]
            for grant in grants {
                let reply = try await admin.send(.post, "assignments", json: grant)
                #expect(reply.status == .created && reply.json["assignment_id"] is String)
            }
            let again = try await admin.send(.post, "assignments", json: grants[0])
            #expect(again.status == .conflict && again.errorCode == "QD008")
            let both = try await admin.send(.post, "assignments", json: ["user_id": user, "user_group_id": group, "perm_code": "users"])
            #expect(both.status == .badRequest && both.errorCode == "QI004")
            #expect(try await admin.send(.post, "assignments", json: ["user_id": user]).errorCode == "QI004")

            let all = try await admin.walk("assignments", limit: 1).flatMap { $0 }
            #expect(all.count >= 4)
            let mine = try await admin.walk("assignments?user_id=\(user)", limit: 1).flatMap { $0 }
            #expect(mine.compactMap { $0["perm_set_code"] as? String ?? $0["perm_code"] as? String } == ["USER", "permissions.view"])
            #expect(mine.allSatisfy { $0["grantee_name"] as? String == "ann" })
            #expect(try await admin.get("assignments?user_group_id=\(group)&perm_set_code=SUPERUSER").json["items"]
                .map { ($0 as? [[String: Any]])?.count } == 1)
            #expect(try await admin.get("assignments?after=\(PageCursor.encode("garbage"))").errorCode == "invalid_parameter")

            #expect(try await admin.send(.delete, "assignments?user_group_id=\(group)&perm_code=users").status == .noContent)
            let missing = try await admin.send(.delete, "assignments?user_group_id=\(group)&perm_code=users")
            #expect(missing.status == .notFound && missing.errorCode == "QN007")
            #expect(try await admin.send(.delete, "assignments?perm_code=users").errorCode == "QI004")
        }
    }

    @Test("the catalogue as a tree; a user's effective codes and why each is held, or why not")
    func catalogueAndExplain() async throws {
        try await PortalFixture.run { fixture, client in
            let admin = try await fixture.tenantAdmin("acme", like: client)
            let tree = try #require(try await admin.get("catalogue").json["permissions"] as? [[String: Any]])
            let users = try #require(tree.first { $0["perm_code"] as? String == "users" })
            let children = (users["children"] as? [[String: Any]])?.compactMap { $0["perm_code"] as? String }
            #expect(children?.contains("users.create_user") == true)

            let ann = try await admin.send(.post, "users", json: ["username": "ann"]).json["user_id"] as? String ?? ""
            let group = try await admin.send(.post, "groups", json: ["code": "ops", "name": "Ops"]).json["user_group_id"] as? String ?? ""
            try await admin.send(.put, "groups/\(group)/members/\(ann)")
            try await admin.send(.post, "assignments", json: ["user_group_id": group, "perm_set_code": "USER"])

            let codes = try await admin.get("users/\(ann)/permissions").json["perm_codes"] as? [String]
            #expect(codes == ["groups.view", "tenant.view_settings", "users.view"])
            let why = try await admin.get("users/\(ann)/permissions/users.view")
            #expect(why.json["granted"] as? Bool == true)
            let path = try #require((why.json["paths"] as? [[String: Any]])?.first)
            #expect(path["path"] as? String == "group_set" && path["user_group_code"] as? String == "ops" && path["perm_set_code"] as? String == "USER")
            let whyNot = try await admin.get("users/\(ann)/permissions/users.create_user")
            #expect(whyNot.json["granted"] as? Bool == false)
            #expect((whyNot.json["paths"] as? [[String: Any]])?.first?["reason"] as? String == "no_grant")
            try await admin.send(.post, "groups/\(group)/deactivate")
            #expect((try await admin.get("users/\(ann)/permissions/users.view").json["paths"] as? [[String: Any]])?
                .first?["reason"] as? String == "group_inactive")
            #expect(try await admin.get("users/\(ann)/permissions/no.such").errorCode == "QN003")
        }
    }
}

/// The cursor encoding of the API (base64url of the key), for crafting cursors in tests.
enum PageCursor {
    static func encode(_ key: String) -> String {
        Data(key.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
