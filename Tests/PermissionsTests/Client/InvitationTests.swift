import Foundation
import Permissions
import PQ
import Testing

/// Invitations: an email invited with a set and/or a group; the token taken once, before its
/// expiry; an account linked by email or created; revoked; listed with their status.
@Suite("Invitations: a token taken once, an account linked or created")
struct InvitationTests {
    static let later = Date().addingTimeInterval(86_400)

    @Test("accepting creates the account, makes it a member with the set and the group, and is single-use")
    func acceptCreates() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["reports.view"])
            let tenant = try await f.tenant()
            _ = try await f.auth.createPermSet(tenant: tenant, code: "READ", name: "Read")
            try await f.auth.addPermSetPermissions(tenant: tenant, permSet: "READ", codes: ["reports.view"])
            let group = try await f.auth.createUserGroup(tenant: tenant, code: "team", name: "Team")
            let invitation = try await f.auth.createInvitation(tenant: tenant, email: "Ann@Example.com", expiresAt: Self.later,
                                                               permSet: "READ", group: group)
            #expect(invitation.token.wholeMatch(of: /pgpi_[0-9a-f]{64}/) != nil)
            #expect(try await f.auth.listInvitations(tenant: tenant).map(\.status) == [.pending])

            let accepted = try await f.auth.acceptInvitation(token: invitation.token, username: "ann", displayName: "Ann")
            #expect(accepted.tenant == tenant && accepted.created)
            #expect(try await f.auth.tenantUser(tenant, user: accepted.user).username == "ann")
            #expect(try await f.auth.hasPermission(tenant: tenant, user: accepted.user, code: "reports.view"))
            #expect(try await f.auth.listGroupMembers(tenant: tenant, group: group).map(\.userID) == [accepted.user])
            await expectError(.invalidInvitation) { _ = try await f.auth.acceptInvitation(token: invitation.token) }
            let listed = try #require(try await f.auth.listInvitations(tenant: tenant).first)
            #expect(listed.status == .accepted && listed.acceptedUserID == accepted.user && listed.permSetCode == "READ"
                    && listed.groupCode == "team")
        }
    }

    @Test("accepting links the account that has the email, ignoring case, and keeps what it had")
    func acceptLinks() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant(), other = try await f.tenant("Other")
            let bob = try await f.auth.createUser(username: "bob", email: "bob@example.com")
            try await f.auth.addUserToTenant(other, user: bob)
            let group = try await f.auth.createUserGroup(tenant: tenant, code: "team", name: "Team")
            let invitation = try await f.auth.createInvitation(tenant: tenant, email: "BOB@example.com", expiresAt: Self.later,
                                                               group: group)
            let accepted = try await f.auth.acceptInvitation(token: invitation.token, username: "ignored")
            #expect(accepted.user == bob && !accepted.created)
            #expect(try await f.auth.checkTenantAccess(tenant: tenant, user: bob))
            #expect(try await f.auth.checkTenantAccess(tenant: other, user: bob))
            // A member removed softly comes back through a new invitation.
            try await f.auth.removeUserFromTenant(tenant, user: bob)
            let again = try await f.auth.createInvitation(tenant: tenant, email: "bob@example.com", expiresAt: Self.later, group: group)
            #expect(try await f.auth.acceptInvitation(token: again.token).user == bob)
            #expect(try await f.auth.checkTenantAccess(tenant: tenant, user: bob))
        }
    }

    @Test("unknown, expired, revoked, replaced and malformed tokens get the same answer; nothing changes")
    func refusals() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let group = try await f.auth.createUserGroup(tenant: tenant, code: "team", name: "Team")
            func invite(_ email: String) async throws -> NewInvitation {
                try await f.auth.createInvitation(tenant: tenant, email: email, expiresAt: Self.later, group: group)
            }
            let revoked = try await invite("r@example.com")
            try await f.auth.revokeInvitation(tenant: tenant, invitation: revoked.id)
            try await f.auth.revokeInvitation(tenant: tenant, invitation: revoked.id)  // again: nothing changes
            let expired = try await invite("e@example.com")
            try await f.sql("UPDATE auth.invitation SET expires_at = now() - interval '1 second' WHERE invitation_id = $1", [expired.id])
            let replaced = try await invite("p@example.com")
            let resent = try await invite("P@example.com")
            for token in [revoked.token, expired.token, replaced.token, "pgpi_" + String(repeating: "0", count: 64), "nope", ""] {
                await expectError(.invalidInvitation) { _ = try await f.auth.acceptInvitation(token: token) }
            }
            #expect(try await f.auth.listTenantUsers(tenant).isEmpty, "no account made by a refused token")
            #expect(Set(try await f.auth.listInvitations(tenant: tenant).map(\.status)) == [.revoked, .expired, .pending])
            _ = try await f.auth.acceptInvitation(token: resent.token)
            await expectError(.invitationAccepted) { try await f.auth.revokeInvitation(tenant: tenant, invitation: resent.id) }
        }
    }

    @Test("errors by SQLSTATE; another tenant's invitation is unknown here; an email of two accounts is refused")
    func errors() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant(), other = try await f.tenant("Other")
            let group = try await f.auth.createUserGroup(tenant: tenant, code: "team", name: "Team")
            let theirGroup = try await f.auth.createUserGroup(tenant: other, code: "team", name: "Team")
            func invite(_ email: String = "x@example.com", expires: Date = Self.later, set: String? = nil,
                        group: UserGroupID? = nil) async throws {
                _ = try await f.auth.createInvitation(tenant: tenant, email: email, expiresAt: expires, permSet: set, group: group)
            }
            for email in ["no-at", "two@@example.com", "sp ace@example.com", String(repeating: "a", count: 250) + "@b.cd"] {
                await expectError(.invalidEmail) { try await invite(email, group: group) }
            }
            await expectError(.invalidArgument) { try await invite(" ", group: group) }
            await expectError(.invalidArgument) { try await invite(expires: Date().addingTimeInterval(-60), group: group) }
            await expectError(.invalidAssignment) { try await invite() }
            await expectError(.unknownPermSet) { try await invite(set: "NOPE") }
            await expectError(.unknownUserGroup) { try await invite(group: theirGroup) }
            #expect(try await f.auth.listInvitations(tenant: tenant).isEmpty)
            await expectError(.invalidPage) { _ = try await f.auth.listInvitations(tenant: tenant, pageSize: 501) }
            for half in ["_after_created_at := now()", "_after_invitation_id := gen_random_uuid()"] {
                await expectError(.invalidPage) { try await f.call("SELECT * FROM auth.list_invitations($1, \(half))", [tenant]) }
            }

            let theirs = try await f.auth.createInvitation(tenant: other, email: "t@example.com", expiresAt: Self.later, group: theirGroup)
            await expectError(.invalidInvitation) { try await f.auth.revokeInvitation(tenant: tenant, invitation: theirs.id) }

            _ = try await f.auth.createUser(username: "twin1", email: "twin@example.com")
            _ = try await f.auth.createUser(username: "twin2", email: "TWIN@example.com")
            let twin = try await f.auth.createInvitation(tenant: tenant, email: "twin@example.com", expiresAt: Self.later, group: group)
            await expectError(.ambiguousEmail) { _ = try await f.auth.acceptInvitation(token: twin.token) }
            _ = try await f.auth.createUser(username: "taken")
            let taken = try await f.auth.createInvitation(tenant: tenant, email: "new@example.com", expiresAt: Self.later, group: group)
            await expectError(.usernameTaken) { _ = try await f.auth.acceptInvitation(token: taken.token, username: "TAKEN") }
            #expect(try await f.auth.acceptInvitation(token: taken.token, username: "newcomer").created, "a failed acceptance used nothing")
        }
    }

    @Test("two acceptances of one token at once: one succeeds, the other is refused")
    func concurrentAcceptance() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let group = try await f.auth.createUserGroup(tenant: tenant, code: "team", name: "Team")
            let invitation = try await f.auth.createInvitation(tenant: tenant, email: "c@example.com", expiresAt: Self.later, group: group)
            let first = try await f.database.connect(), second = try await f.database.connect()
            let results = await withTaskGroup(of: Bool.self) { tasks in
                for (connection, name) in [(first, "c1"), (second, "c2")] {
                    tasks.addTask { (try? await AuthClient(connection).acceptInvitation(token: invitation.token, username: name)) != nil }
                }
                return await tasks.reduce(into: []) { $0.append($1) }
            }
            #expect(results.filter { $0 }.count == 1 && results.count == 2)
            #expect(try await f.auth.listTenantUsers(tenant).count == 1)
        }
    }
}
