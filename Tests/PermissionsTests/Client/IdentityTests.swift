import Foundation
import Permissions
import PQ
import Testing

@Suite("User identities")
struct IdentityTests {
    static let issuer = "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0"

    // MARK: link_user_identity / get_user_by_identity

    @Test("a linked identity finds its user; an unknown one finds no one; issuer and subject compare exactly")
    func linkAndFind() async throws {
        try await AuthFixture.run { f in
            let alice = try await f.user("alice")
            #expect(try await f.auth.linkUserIdentity(alice, issuer: Self.issuer, subject: "oid-1", email: "alice@contoso.com"))
            #expect(try await f.auth.userByIdentity(issuer: Self.issuer, subject: "oid-1") == alice)
            #expect(try await f.auth.userByIdentity(issuer: Self.issuer, subject: "OID-1") == nil)
            #expect(try await f.auth.userByIdentity(issuer: Self.issuer + "/", subject: "oid-1") == nil)
            #expect(try await f.auth.userByIdentity(issuer: "https://other.example", subject: "oid-1") == nil)
        }
    }

    @Test("linking again to the same user records a sign-in and returns false; one user may have several identities")
    func relink() async throws {
        try await AuthFixture.run { f in
            let alice = try await f.user("alice")
            try await f.auth.linkUserIdentity(alice, issuer: Self.issuer, subject: "oid-1", email: "alice@contoso.com")
            try await f.sql("UPDATE auth.user_identity SET last_used_at = now() - interval '1 day'")
            #expect(try await f.auth.linkUserIdentity(alice, issuer: Self.issuer, subject: "oid-1", email: "a.smith@contoso.com") == false)
            try await f.auth.linkUserIdentity(alice, issuer: "https://accounts.example", subject: "alice")
            let identities = try await f.auth.userIdentities(alice)
            #expect(identities.map(\.issuer) == ["https://accounts.example", Self.issuer])
            #expect(identities[1].email == "a.smith@contoso.com")
            #expect(identities[1].lastUsedAt > Date().addingTimeInterval(-3600))
            #expect(identities[1].linkedAt < identities[1].lastUsedAt)
        }
    }

    @Test("an identity signs in as one user only: linking it to another is QD011 and changes nothing")
    func takenByAnother() async throws {
        try await AuthFixture.run { f in
            let alice = try await f.user("alice")
            let mallory = try await f.user("mallory")
            try await f.auth.linkUserIdentity(alice, issuer: Self.issuer, subject: "oid-1")
            await expectError(.identityTaken) {
                try await f.auth.linkUserIdentity(mallory, issuer: Self.issuer, subject: "oid-1")
            }
            #expect(try await f.auth.userByIdentity(issuer: Self.issuer, subject: "oid-1") == alice)
            #expect(try await f.auth.userIdentities(mallory).isEmpty)
        }
    }

    @Test("blank, NULL and over-long arguments are QI001 and QI008; an unknown user is QN002")
    func invalidArguments() async throws {
        try await AuthFixture.run { f in
            let alice = try await f.user("alice")
            await expectError(.invalidArgument) { try await f.auth.linkUserIdentity(alice, issuer: " ", subject: "s") }
            await expectError(.invalidArgument) { try await f.auth.linkUserIdentity(alice, issuer: Self.issuer, subject: "\u{200B}") }
            await expectError(.invalidArgument) { _ = try await f.auth.userByIdentity(issuer: "", subject: "s") }
            await expectError(.invalidArgument) {
                try await f.call("SELECT auth.get_user_by_identity(NULL, 's')")
            }
            await expectError(.invalidArgument) {
                try await f.call("SELECT auth.link_user_identity(NULL, 'i', 's')")
            }
            await expectError(.invalidText) {
                try await f.auth.linkUserIdentity(alice, issuer: "https://" + String(repeating: "a", count: 2041), subject: "s")
            }
            await expectError(.invalidText) {
                try await f.auth.linkUserIdentity(alice, issuer: Self.issuer, subject: String(repeating: "s", count: 256))
            }
            await expectError(.invalidText) {
                try await f.auth.linkUserIdentity(alice, issuer: Self.issuer, subject: "s", email: String(repeating: "e", count: 321))
            }
            await expectError(.invalidText) { _ = try await f.auth.userByIdentity(issuer: Self.issuer, subject: String(repeating: "s", count: 256)) }
            await expectError(.unknownUser) { try await f.auth.linkUserIdentity(UserID(UUID()), issuer: Self.issuer, subject: "s") }
            await expectError(.unknownUser) { try await f.auth.unlinkUserIdentity(UserID(UUID()), issuer: Self.issuer, subject: "s") }
            await expectError(.unknownUser) { _ = try await f.auth.userIdentities(UserID(UUID())) }
            #expect(try await f.sql("SELECT count(*) FROM auth.user_identity").scalar(Int.self) == 0)
        }
    }

    @Test("a NUL byte is refused before anything is sent")
    func nulByte() async throws {
        try await AuthFixture.run { f in
            let alice = try await f.user("alice")
            await #expect(throws: PostgresError.self) {
                try await f.auth.linkUserIdentity(alice, issuer: Self.issuer, subject: "a\u{0}b")
            }
        }
    }

    // MARK: unlink_user_identity

    @Test("unlinking frees the identity for another user; unlinking twice, or another's, returns false")
    func unlink() async throws {
        try await AuthFixture.run { f in
            let alice = try await f.user("alice")
            let bob = try await f.user("bob")
            try await f.auth.linkUserIdentity(alice, issuer: Self.issuer, subject: "oid-1")
            #expect(try await f.auth.unlinkUserIdentity(bob, issuer: Self.issuer, subject: "oid-1") == false)
            #expect(try await f.auth.unlinkUserIdentity(alice, issuer: Self.issuer, subject: "oid-1"))
            #expect(try await f.auth.unlinkUserIdentity(alice, issuer: Self.issuer, subject: "oid-1") == false)
            #expect(try await f.auth.linkUserIdentity(bob, issuer: Self.issuer, subject: "oid-1"))
            #expect(try await f.auth.userByIdentity(issuer: Self.issuer, subject: "oid-1") == bob)
        }
    }

    @Test("deleting the user deletes their identities")
    func deleteUser() async throws {
        try await AuthFixture.run { f in
            let alice = try await f.user("alice")
            try await f.auth.linkUserIdentity(alice, issuer: Self.issuer, subject: "oid-1")
            try await f.auth.deleteUser(alice)
            #expect(try await f.auth.userByIdentity(issuer: Self.issuer, subject: "oid-1") == nil)
        }
    }

    @Test("links, sign-ins and unlinks are in the audit log with the actor")
    func audited() async throws {
        try await AuthFixture.run { f in
            let alice = try await f.user("alice")
            try await f.sql("BEGIN")
            try await f.auth.setActor(alice)
            try await f.auth.linkUserIdentity(alice, issuer: Self.issuer, subject: "oid-1")
            try await f.auth.linkUserIdentity(alice, issuer: Self.issuer, subject: "oid-1", email: "alice@contoso.com")
            try await f.auth.unlinkUserIdentity(alice, issuer: Self.issuer, subject: "oid-1")
            try await f.sql("COMMIT")
            let entries = try await f.auth.auditLog(tenant: nil).filter { $0.action.hasPrefix("user_identity.") }
            #expect(entries.map(\.action) == ["user_identity.delete", "user_identity.update", "user_identity.insert"], "newest first")
            #expect(entries.allSatisfy { $0.actor == alice })
            #expect(entries.allSatisfy { $0.details.contains("oid-1") })
        }
    }

    @Test("two concurrent first links of one identity to two users: one wins, the other gets QD011")
    func concurrentLinks() async throws {
        try await AuthFixture.run { f in
            let alice = try await f.user("alice")
            let bob = try await f.user("bob")
            let other = try await f.database.connect()
            defer { Task { await other.close() } }
            try await f.sql("BEGIN")
            try await f.auth.linkUserIdentity(alice, issuer: Self.issuer, subject: "oid-1")
            let racing = Task { try await AuthClient(other).linkUserIdentity(bob, issuer: Self.issuer, subject: "oid-1") }
            try await Task.sleep(for: .milliseconds(200))
            try await f.sql("COMMIT")
            await expectError(.identityTaken) { _ = try await racing.value }
            #expect(try await f.auth.userByIdentity(issuer: Self.issuer, subject: "oid-1") == alice)
        }
    }

    // MARK: get_tenant_member_by_email

    @Test("the active member with the email, ignoring case; no one for another tenant's member, an inactive one, or none")
    func memberByEmail() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let other = try await f.tenant("Other")
            let alice = try await f.auth.createUser(username: "alice-\(UUID().uuidString.prefix(6))", email: "Alice@Contoso.com")
            try await f.auth.addUserToTenant(tenant, user: alice)
            let bob = try await f.auth.createUser(username: "bob-\(UUID().uuidString.prefix(6))", email: "bob@contoso.com")
            try await f.auth.addUserToTenant(other, user: bob)
            let carol = try await f.auth.createUser(username: "carol-\(UUID().uuidString.prefix(6))", email: "carol@contoso.com")
            try await f.auth.addUserToTenant(tenant, user: carol)
            try await f.auth.removeUserFromTenant(tenant, user: carol)
            let dave = try await f.auth.createUser(username: "dave-\(UUID().uuidString.prefix(6))", email: "dave@contoso.com")
            try await f.auth.addUserToTenant(tenant, user: dave)
            try await f.auth.deactivateUser(dave)

            #expect(try await f.auth.tenantMember(tenant: tenant, email: "alice@contoso.COM") == alice)
            #expect(try await f.auth.tenantMember(tenant: tenant, email: "bob@contoso.com") == nil)
            #expect(try await f.auth.tenantMember(tenant: other, email: "bob@contoso.com") == bob)
            #expect(try await f.auth.tenantMember(tenant: tenant, email: "carol@contoso.com") == nil)
            #expect(try await f.auth.tenantMember(tenant: tenant, email: "dave@contoso.com") == nil)
            #expect(try await f.auth.tenantMember(tenant: tenant, email: "nobody@contoso.com") == nil)
        }
    }

    @Test("two active members sharing the email is QS006; a blank email QI001; an unknown tenant QN001")
    func memberByEmailErrors() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            for name in ["twin-a", "twin-b"] {
                let twin = try await f.auth.createUser(username: "\(name)-\(UUID().uuidString.prefix(6))", email: "twin@contoso.com")
                try await f.auth.addUserToTenant(tenant, user: twin)
            }
            await expectError(.ambiguousEmail) { _ = try await f.auth.tenantMember(tenant: tenant, email: "twin@contoso.com") }
            await expectError(.invalidArgument) { _ = try await f.auth.tenantMember(tenant: tenant, email: " ") }
            await expectError(.unknownTenant) { _ = try await f.auth.tenantMember(tenant: TenantID(UUID()), email: "a@b.c") }
        }
    }

    // MARK: privileges

    @Test("the application role may find the user of an identity, not link one; the admin role may link")
    func privileges() async throws {
        try await AuthFixture.run { f in
            let alice = try await f.user("alice")
            try await f.auth.linkUserIdentity(alice, issuer: Self.issuer, subject: "oid-1")
            let app = try await f.login(memberOf: "auth_app")
            defer { Task { await app.connection.close() } }
            #expect(try await AuthClient(app.connection).userByIdentity(issuer: Self.issuer, subject: "oid-1") == alice)
            await expectError(.insufficientPrivilege) {
                try await AuthClient(app.connection).linkUserIdentity(alice, issuer: Self.issuer, subject: "oid-2")
            }
            await expectError(.insufficientPrivilege) {
                _ = try await AuthClient(app.connection).userIdentities(alice)
            }
            let admin = try await f.login(memberOf: "auth_admin")
            defer { Task { await admin.connection.close() } }
            #expect(try await AuthClient(admin.connection).linkUserIdentity(alice, issuer: Self.issuer, subject: "oid-2"))
        }
    }
}
