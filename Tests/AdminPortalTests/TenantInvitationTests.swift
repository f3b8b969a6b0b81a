import Foundation
import HTTPTypes
import Testing

@Suite("Tenant API: invitations")
struct TenantInvitationTests {
    @Test("invite, accept once without a session (a new account with its password), list, revoke")
    func inviteAndAccept() async throws {
        try await PortalFixture.run { fixture, client in
            let admin = try await fixture.tenantAdmin("acme", like: client)
            let invited = try await admin.send(.post, "invitations", json: ["email": "ann@example.com", "perm_set_code": "USER"])
            #expect(invited.status == .created)
            let token = try #require(invited.json["token"] as? String)
            let listed = try await admin.get("invitations").json["items"] as? [[String: Any]] ?? []
            #expect(listed.first?["status"] as? String == "pending" && listed.first?["token"] == nil)
            #expect(listed.first?["invited_by"] as? String == (try await admin.get("session").json["user_id"] as? String))

            let stranger = fixture.newClient(like: client)
            let accepted = try await stranger.send(.post, "/t/acme/api/invitations/accept",
                                                   json: ["token": token, "username": "ann", "password": "ann's own password"])
            #expect(accepted.status == .created && accepted.json["created"] as? Bool == true)
            let again = try await stranger.send(.post, "/t/acme/api/invitations/accept", json: ["token": token])
            #expect(again.status == .notFound && again.errorCode == "QN010")
            #expect(try await stranger.send(.post, "/t/acme/api/session", json: ["username": "ann", "password": "ann's own password"]).status == .ok)
            #expect(try await stranger.get("/t/acme/api/users").status == .ok, "the USER set came with the invitation")
            #expect((try await admin.get("invitations").json["items"] as? [[String: Any]])?.first?["status"] as? String == "accepted")

            let revoked = try await admin.send(.post, "invitations", json: ["email": "bob@example.com", "perm_set_code": "USER"])
            let id = try #require(revoked.json["invitation_id"] as? String)
            #expect(try await admin.send(.delete, "invitations/\(id)").status == .noContent)
            let late = try await fixture.newClient(like: client).send(.post, "/t/acme/api/invitations/accept",
                                                                      json: ["token": revoked.json["token"] as? String ?? ""])
            #expect(late.errorCode == "QN010")
            let acceptedID = try #require(listed.first?["invitation_id"] as? String)
            #expect(try await admin.send(.delete, "invitations/\(acceptedID)").errorCode == "QS007")
        }
    }

    @Test("an existing account is linked and keeps its password; other tenants and bad tokens get QN010")
    func linkAndRefusals() async throws {
        try await PortalFixture.run { fixture, client in
            let acme = try await fixture.tenantAdmin("acme", like: client)
            _ = try await fixture.createTenant("beta")
            try await acme.send(.post, "users", json: ["username": "carl", "email": "carl@example.com", "password": "carl's password"])
            let group = try await acme.send(.post, "groups", json: ["code": "team", "name": "Team"]).json["user_group_id"] as? String ?? ""
            let token = try #require(try await acme.send(.post, "invitations", json: ["email": "CARL@example.com", "user_group_id": group])
                .json["token"] as? String)
            let browser = fixture.newClient(like: client)
            let takeover = try await browser.send(.post, "/t/acme/api/invitations/accept", json: ["token": token, "password": "stolen!!"])
            #expect(takeover.status == .conflict && takeover.errorCode == "account_exists")
            #expect(try await browser.send(.post, "/t/beta/api/invitations/accept", json: ["token": token]).errorCode == "QN010",
                    "another tenant's token")
            #expect(try await browser.send(.post, "/t/nope/api/invitations/accept", json: ["token": token]).errorCode == "QN010")
            #expect(try await browser.send(.post, "/t/acme/api/invitations/accept", json: ["token": "pgpi_x"]).errorCode == "QN010")
            let linked = try await browser.send(.post, "/t/acme/api/invitations/accept", json: ["token": token])
            #expect(linked.status == .created && linked.json["created"] as? Bool == false)
            #expect(try await browser.send(.post, "/t/acme/api/session", json: ["username": "carl", "password": "carl's password"]).status == .ok)
            #expect((try await acme.get("groups/\(group)/members").json["items"] as? [[String: Any]])?.count == 1)
        }
    }

    @Test("inviting needs users.create_user, and the right to give what the invitation carries")
    func whoMayInvite() async throws {
        try await PortalFixture.run { fixture, client in
            let admin = try await fixture.tenantAdmin("acme", like: client)
            try await admin.send(.post, "perm-sets", json: ["code": "RECRUITER", "name": "Recruiter", "perm_codes": ["users.create_user"]])
            let (_, recruiter) = try await fixture.tenantMember("rita", holding: "RECRUITER", by: admin)
            let (_, reader) = try await fixture.tenantMember("rex", holding: "USER", by: admin)
            let group = try await admin.send(.post, "groups", json: ["code": "team", "name": "Team"]).json["user_group_id"] as? String ?? ""
            #expect(try await reader.send(.post, "invitations", json: ["email": "a@example.com", "perm_set_code": "USER"]).errorCode == "42501")
            #expect(try await recruiter.send(.post, "invitations", json: ["email": "a@example.com", "perm_set_code": "ADMIN"]).errorCode == "42501",
                    "no one invites with a set they could not assign")
            #expect(try await recruiter.send(.post, "invitations", json: ["email": "a@example.com", "user_group_id": group]).errorCode == "42501")
            #expect((try await admin.get("invitations").json["items"] as? [[String: Any]])?.isEmpty == true)
            #expect(try await admin.send(.post, "invitations", json: ["email": "not an email", "user_group_id": group]).errorCode == "QI012")
            #expect(try await admin.send(.post, "invitations", json: ["email": "a@example.com"]).errorCode == "QI004")
        }
    }
}
