import Foundation
import HTTPTypes
import Testing

@Suite("Tenant API: groups, members and owners")
struct TenantGroupAPITests {
    @Test("create, show, list, rename with If-Match, members and owners, deactivate, activate, delete")
    func lifecycle() async throws {
        try await PortalFixture.run { fixture, client in
            let admin = try await fixture.tenantAdmin("acme", like: client)
            let created = try await admin.send(.post, "groups", json: ["code": "sales", "name": "Sales"])
            #expect(created.status == .created)
            let id = try #require(created.json["user_group_id"] as? String)
            let duplicate = try await admin.send(.post, "groups", json: ["code": "sales", "name": "Again"])
            #expect(duplicate.status == .conflict && duplicate.errorCode == "QD004")
            let invalid = try await admin.send(.post, "groups", json: ["code": "no spaces", "name": "X"])
            #expect(invalid.status == .badRequest && invalid.errorCode == "QI003")

            let renamed = try await admin.send(.patch, "groups/\(id)", json: ["code": "field-sales", "name": "Field sales"],
                                               ifMatch: created.headers[.eTag])
            #expect(renamed.status == .ok && renamed.json["code"] as? String == "field-sales")
            #expect(try await admin.send(.patch, "groups/\(id)", json: ["name": "Lost"], ifMatch: created.headers[.eTag]).status
                    == .preconditionFailed)

            let ann = try await admin.send(.post, "users", json: ["username": "ann"]).json["user_id"] as? String ?? ""
            let bob = try await admin.send(.post, "users", json: ["username": "bob"]).json["user_id"] as? String ?? ""
            #expect(try await admin.send(.put, "groups/\(id)/members/\(ann)").status == .noContent)
            let again = try await admin.send(.put, "groups/\(id)/members/\(ann)")
            #expect(again.status == .conflict && again.errorCode == "QD007")
            #expect(try await admin.send(.put, "groups/\(id)/members/\(bob)").status == .noContent)
            let members = try await admin.walk("groups/\(id)/members", limit: 1)
            #expect(members.flatMap { $0 }.compactMap { $0["username"] as? String } == ["ann", "bob"])
            #expect(try await admin.get("groups/\(id)").json["member_count"] as? Int == 2)
            #expect(try await admin.send(.delete, "groups/\(id)/members/\(bob)").status == .noContent)
            let notMember = try await admin.send(.delete, "groups/\(id)/members/\(bob)")
            #expect(notMember.status == .notFound && notMember.errorCode == "QN008")

            #expect(try await admin.send(.put, "groups/\(id)/owners/\(bob)").status == .noContent)
            #expect((try await admin.get("groups/\(id)/owners").json["items"] as? [[String: Any]])?.first?["username"] as? String == "bob")
            #expect(try await admin.send(.delete, "groups/\(id)/owners/\(bob)").status == .noContent)
            #expect((try await admin.get("groups/\(id)/owners").json["items"] as? [[String: Any]])?.isEmpty == true)

            #expect(try await admin.send(.post, "groups/\(id)/deactivate").json["is_active"] as? Bool == false)
            #expect(try await admin.send(.post, "groups/\(id)/activate").json["is_active"] as? Bool == true)
            let list = try await admin.get("groups")
            #expect((list.json["items"] as? [[String: Any]])?.map { $0["code"] as? String } == ["field-sales"])
            #expect(list.json.keys.contains("next") && list.json["next"] is NSNull)

            #expect(try await admin.send(.delete, "groups/\(id)").status == .noContent)
            let gone = try await admin.get("groups/\(id)")
            #expect(gone.status == .notFound && gone.errorCode == "QN005")
        }
    }

    @Test("an owner manages the group's members without groups.manage, and nothing else")
    func ownerManagesMembers() async throws {
        try await PortalFixture.run { fixture, client in
            let admin = try await fixture.tenantAdmin("acme", like: client)
            let group = try await admin.send(.post, "groups", json: ["code": "ops", "name": "Ops"]).json["user_group_id"] as? String ?? ""
            let other = try await admin.send(.post, "groups", json: ["code": "other", "name": "Other"]).json["user_group_id"] as? String ?? ""
            let (ownerID, owner) = try await fixture.tenantMember("olive", holding: "USER", by: admin)
            let member = try await admin.send(.post, "users", json: ["username": "max"]).json["user_id"] as? String ?? ""
            #expect(try await owner.send(.put, "groups/\(group)/members/\(member)").status == .forbidden)
            #expect(try await admin.send(.put, "groups/\(group)/owners/\(ownerID)").status == .noContent)

            #expect(try await owner.send(.put, "groups/\(group)/members/\(member)").status == .noContent)
            #expect(try await owner.send(.delete, "groups/\(group)/members/\(member)").status == .noContent)
            let elsewhere = try await owner.send(.put, "groups/\(other)/members/\(member)")
            #expect(elsewhere.status == .forbidden && elsewhere.errorCode == "42501")
            #expect(try await owner.send(.patch, "groups/\(group)", json: ["name": "Mine"]).status == .forbidden)
            #expect(try await owner.send(.put, "groups/\(group)/owners/\(member)").status == .forbidden)
        }
    }
}
