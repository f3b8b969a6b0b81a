import Foundation
import Permissions
import PQ
import Testing

@Suite("Users")
struct UserTests {
    /// A user's row as stored in `auth.user_info`.
    struct StoredUser: Equatable {
        var username: String
        var email: String?
        var displayName: String?
        var isActive: Bool
    }

    static func stored(_ f: AuthFixture, _ user: UserID) async throws -> StoredUser? {
        let rows = try await f.sql(
            "SELECT username, email, display_name, is_active FROM auth.user_info WHERE user_id = $1", [user])
        guard let row = rows.rows.first else { return nil }
        return StoredUser(username: try row.decode(at: 0), email: try row.decode(at: 1),
                          displayName: try row.decode(at: 2), isActive: try row.decode(at: 3))
    }

    static func userCount(_ f: AuthFixture) async throws -> Int {
        try await f.sql("SELECT count(*) FROM auth.user_info").scalar(Int.self)
    }

    /// A tenant with `user` as a member holding `code` directly.
    static func grantedTenant(_ f: AuthFixture, _ user: UserID, code: String) async throws -> TenantID {
        let tenant = try await f.tenant()
        try await f.auth.addUserToTenant(tenant, user: user)
        try await f.auth.assignPermission(tenant: tenant, to: .user(user), grant: .permission(code))
        return tenant
    }

    // MARK: create_user

    @Test("create_user stores an active user with the username, email and display name given")
    func createStoresUser() async throws {
        try await AuthFixture.run { f in
            let alice = try await f.auth.createUser(username: "alice", email: "alice@example.com", displayName: "Alice A.")
            let bob = try await f.auth.createUser(username: "bob")
            #expect(alice != bob)
            #expect(try await Self.stored(f, alice)
                    == StoredUser(username: "alice", email: "alice@example.com", displayName: "Alice A.", isActive: true))
            #expect(try await Self.stored(f, bob)
                    == StoredUser(username: "bob", email: nil, displayName: nil, isActive: true))
        }
    }

    @Test("create_user stores an empty email or display name as NULL")
    func createEmptyOptionalsAreNull() async throws {
        try await AuthFixture.run { f in
            let user = try await f.auth.createUser(username: "carol", email: "", displayName: "")
            let row = try #require(try await Self.stored(f, user))
            #expect(row.email == nil)
            #expect(row.displayName == nil)
        }
    }

    @Test("create_user refuses an empty or blank username and creates nothing")
    func createBlankUsername() async throws {
        try await AuthFixture.run { f in
            let before = try await Self.userCount(f)
            await expectError(.invalidArgument) { _ = try await f.auth.createUser(username: "") }
            await expectError(.invalidArgument) { _ = try await f.auth.createUser(username: "   ") }
            #expect(try await Self.userCount(f) == before)
        }
    }

    @Test("create_user refuses a username that differs from an existing one only in case")
    func createCaseInsensitiveDuplicate() async throws {
        try await AuthFixture.run { f in
            let alice = try await f.auth.createUser(username: "Alice", email: "a@example.com")
            await expectError(.usernameTaken) { _ = try await f.auth.createUser(username: "alice") }
            await expectError(.usernameTaken) { _ = try await f.auth.createUser(username: "ALICE", email: "b@example.com") }
            await expectError(.usernameTaken) { _ = try await f.auth.createUser(username: "Alice") }
            #expect(try await Self.userCount(f) == 1)
            #expect(try await Self.stored(f, alice)?.email == "a@example.com")
        }
    }

    // MARK: update_user

    @Test("update_user changes the fields given and leaves the nil ones unchanged")
    func updateChangesGivenFields() async throws {
        try await AuthFixture.run { f in
            let user = try await f.auth.createUser(username: "dave", email: "dave@example.com", displayName: "Dave")
            try await f.auth.updateUser(user, email: "d@example.org")
            #expect(try await Self.stored(f, user)
                    == StoredUser(username: "dave", email: "d@example.org", displayName: "Dave", isActive: true))
            try await f.auth.updateUser(user, username: "david", displayName: "David")
            #expect(try await Self.stored(f, user)
                    == StoredUser(username: "david", email: "d@example.org", displayName: "David", isActive: true))
        }
    }

    @Test("update_user with an empty string clears the email and the display name")
    func updateClearsOptionals() async throws {
        try await AuthFixture.run { f in
            let user = try await f.auth.createUser(username: "erin", email: "erin@example.com", displayName: "Erin")
            try await f.auth.updateUser(user, email: "", displayName: "")
            #expect(try await Self.stored(f, user)
                    == StoredUser(username: "erin", email: nil, displayName: nil, isActive: true))
        }
    }

    @Test("update_user may change the case of the user's own username")
    func updateOwnUsernameCase() async throws {
        try await AuthFixture.run { f in
            let user = try await f.auth.createUser(username: "frank")
            try await f.auth.updateUser(user, username: "Frank")
            #expect(try await Self.stored(f, user)?.username == "Frank")
        }
    }

    @Test("update_user refuses another user's username in any case and changes nothing")
    func updateTakenUsername() async throws {
        try await AuthFixture.run { f in
            _ = try await f.auth.createUser(username: "grace")
            let heidi = try await f.auth.createUser(username: "heidi", email: "heidi@example.com")
            await expectError(.usernameTaken) { try await f.auth.updateUser(heidi, username: "GRACE", email: "x@example.com") }
            #expect(try await Self.stored(f, heidi)
                    == StoredUser(username: "heidi", email: "heidi@example.com", displayName: nil, isActive: true))
        }
    }

    @Test("update_user refuses a blank username and changes nothing")
    func updateBlankUsername() async throws {
        try await AuthFixture.run { f in
            let user = try await f.auth.createUser(username: "ivan", displayName: "Ivan")
            await expectError(.invalidArgument) { try await f.auth.updateUser(user, username: "", displayName: "X") }
            await expectError(.invalidArgument) { try await f.auth.updateUser(user, username: "  ") }
            #expect(try await Self.stored(f, user)
                    == StoredUser(username: "ivan", email: nil, displayName: "Ivan", isActive: true))
        }
    }

    @Test("update_user of an unknown user fails with unknownUser")
    func updateUnknownUser() async throws {
        try await AuthFixture.run { f in
            let before = try await Self.userCount(f)
            await expectError(.unknownUser) { try await f.auth.updateUser(UserID(UUID()), username: "nobody") }
            #expect(try await Self.userCount(f) == before)
        }
    }

    // MARK: deactivate_user / activate_user

    @Test("deactivate_user denies every check of the user in every tenant, owned ones included")
    func deactivateDeniesEverywhere() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["docs.read"])
            let user = try await f.user("judy")
            let other = try await f.user("other")
            let first = try await Self.grantedTenant(f, user, code: "docs.read")
            let second = try await Self.grantedTenant(f, user, code: "docs.read")
            let owned = try await f.tenant(owner: user)
            try await f.auth.addUserToTenant(first, user: other)
            try await f.auth.assignPermission(tenant: first, to: .user(other), grant: .permission("docs.read"))
            for tenant in [first, second, owned] {
                #expect(try await f.auth.hasPermission(tenant: tenant, user: user, code: "docs.read"))
            }

            try await f.auth.deactivateUser(user)

            #expect(try await Self.stored(f, user)?.isActive == false)
            for tenant in [first, second, owned] {
                #expect(try await !f.auth.hasPermission(tenant: tenant, user: user, code: "docs.read"))
                #expect(try await !f.auth.checkTenantAccess(tenant: tenant, user: user))
            }
            // The membership itself is untouched, and other users keep their access.
            #expect(try await f.sql("SELECT bool_and(is_active) FROM auth.tenant_user WHERE user_id = $1",
                                    [user]).scalar(Bool.self))
            #expect(try await f.auth.hasPermission(tenant: first, user: other, code: "docs.read"))
        }
    }

    @Test("deactivate_user twice is harmless and records one change")
    func deactivateIdempotent() async throws {
        try await AuthFixture.run { f in
            let user = try await f.user("ken")
            try await f.auth.deactivateUser(user)
            try await f.auth.deactivateUser(user)
            #expect(try await Self.stored(f, user)?.isActive == false)
            let updates = try await f.sql("""
                SELECT count(*) FROM auth.audit_log
                WHERE action = 'user_info.update' AND details -> 'new' ->> 'user_id' = ($1::uuid)::text
                """, [user]).scalar(Int.self)
            #expect(updates == 1)
        }
    }

    @Test("activate_user restores the user's access, and is harmless when already active")
    func activateRestores() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["docs.read"])
            let user = try await f.user("leo")
            let tenant = try await Self.grantedTenant(f, user, code: "docs.read")
            try await f.auth.deactivateUser(user)
            #expect(try await !f.auth.hasPermission(tenant: tenant, user: user, code: "docs.read"))

            try await f.auth.activateUser(user)
            #expect(try await Self.stored(f, user)?.isActive == true)
            #expect(try await f.auth.hasPermission(tenant: tenant, user: user, code: "docs.read"))
            #expect(try await f.auth.checkTenantAccess(tenant: tenant, user: user))

            try await f.auth.activateUser(user)
            #expect(try await f.auth.hasPermission(tenant: tenant, user: user, code: "docs.read"))
        }
    }

    @Test("deactivate_user and activate_user of an unknown user fail with unknownUser")
    func activationUnknownUser() async throws {
        try await AuthFixture.run { f in
            let user = try await f.user("mia")
            await expectError(.unknownUser) { try await f.auth.deactivateUser(UserID(UUID())) }
            await expectError(.unknownUser) { try await f.auth.activateUser(UserID(UUID())) }
            #expect(try await Self.stored(f, user)?.isActive == true)
        }
    }

    // MARK: Look-alike and over-long usernames

    /// Whitespace and invisible characters that make a username look like another one.
    static let invisibleEdges = [" ", "\t", "\n", "\u{00A0}", "\u{200B}", "\u{3000}", "\u{FEFF}", "\u{202E}"]

    @Test("a username made only of whitespace or invisible characters is blank (QI001)")
    func usernameInvisibleOnly() async throws {
        try await AuthFixture.run { f in
            let user = try await f.auth.createUser(username: "nora")
            for blank in ["\t\n\r", "\u{00A0}\u{3000}", "\u{200B}\u{200D}\u{FEFF}", "\u{202E}\u{202C}"] {
                await expectError(.invalidArgument) { _ = try await f.auth.createUser(username: blank) }
                await expectError(.invalidArgument) { try await f.auth.updateUser(user, username: blank) }
            }
            #expect(try await Self.stored(f, user)?.username == "nora")
        }
    }

    @Test("a username with whitespace or an invisible character at either end is refused (QI008), inside is fine")
    func usernameEdges() async throws {
        try await AuthFixture.run { f in
            _ = try await f.auth.createUser(username: "olga")
            let user = try await f.user("pete")
            for edge in Self.invisibleEdges {
                await expectError(.invalidText) { _ = try await f.auth.createUser(username: edge + "olga") }
                await expectError(.invalidText) { _ = try await f.auth.createUser(username: "olga" + edge) }
                await expectError(.invalidText) { try await f.auth.updateUser(user, username: "pete" + edge) }
            }
            let inside = try await f.auth.createUser(username: "mary ann\tx")
            #expect(try await Self.stored(f, inside)?.username == "mary ann\tx")
            // Direct SQL is held to the same rule by a CHECK constraint.
            let error = await #expect(throws: PostgresError.self) {
                try await f.sql("INSERT INTO auth.user_info (username) VALUES ('olga ')")
            }
            #expect(error?.code == .checkViolation)
        }
    }

    @Test("a username of 255 characters is accepted, 256 are refused (QI008), also by direct SQL")
    func usernameLength() async throws {
        try await AuthFixture.run { f in
            let longest = String(repeating: "é", count: 255)
            let user = try await f.auth.createUser(username: longest)
            #expect(try await Self.stored(f, user)?.username == longest)
            await expectError(.invalidText) { _ = try await f.auth.createUser(username: longest + "x") }
            await expectError(.invalidText) { try await f.auth.updateUser(user, username: longest + "x") }
            let error = await #expect(throws: PostgresError.self) {
                try await f.sql("INSERT INTO auth.user_info (username) VALUES (repeat('z', 256))")
            }
            #expect(error?.code == .checkViolation)
        }
    }

    // MARK: delete_user

    /// Rows that still name `user`, per table, leaving out the audit log.
    static func remnants(_ f: AuthFixture, _ user: UserID) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for table in ["user_info", "user_password", "tenant_user", "user_group_member", "owner", "permission_assignment",
                      "user_tenant_preference", "effective_access"] {
            let count = try await f.sql("SELECT count(*) FROM auth.\(table) WHERE user_id = $1", [user]).scalar(Int.self)
            if count > 0 { counts[table] = count }
        }
        return counts
    }

    @Test("delete_user removes the user everywhere: password, memberships, groups, group ownership, assignments, preferences")
    func deleteEverywhere() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["docs.read"])
            let user = try await f.user("leaver")
            let colleague = try await f.user("colleague")
            try await f.sql("SET auth.bcrypt_cost = 4")
            try await f.auth.setUserPassword(user, password: "correct horse battery")
            var tenants: [TenantID] = []
            for name in ["A", "B"] {
                let tenant = try await Self.grantedTenant(f, user, code: "docs.read")
                try await f.auth.addUserToTenant(tenant, user: colleague)
                let group = try await f.auth.createUserGroup(tenant: tenant, code: "TEAM", name: "Team \(name)")
                try await f.auth.addUserToGroup(tenant: tenant, group: group, user: user)
                try await f.auth.addUserToGroup(tenant: tenant, group: group, user: colleague)
                try await f.auth.assignGroupOwner(tenant: tenant, group: group, user: user)
                try await f.auth.assignPermission(tenant: tenant, to: .group(group), grant: .permission("docs.read"))
                try await f.auth.setUserPreference(user: user, tenant: tenant, key: "theme", value: "dark")
                tenants.append(tenant)
            }
            #expect(try await Self.remnants(f, user).count == 8)

            try await f.auth.deleteUser(user)
            #expect(try await Self.remnants(f, user) == [:])
            for tenant in tenants {
                // The colleague keeps the group, its grant and the membership.
                #expect(try await f.auth.hasPermission(tenant: tenant, user: colleague, code: "docs.read"))
                #expect(try await f.auth.tenantUsers(tenant).map(\.userID) == [colleague])
                // Recorded under the tenant, and the user itself without one.
                let actions = Set(try await f.auth.auditLog(tenant: tenant, limit: nil).map(\.action))
                #expect(actions.isSuperset(of: ["tenant_user.delete", "user_group_member.delete", "owner.delete",
                                                "permission_assignment.delete", "user_tenant_preference.delete"]))
            }
            let global = try await f.auth.auditLog(tenant: nil, limit: nil)
            #expect(global.contains { $0.action == "user_info.delete" })
            #expect(global.contains { $0.action == "user_password.delete" })
            // The username is free again.
            let username = try await f.sql("SELECT details->'old'->>'username' FROM auth.audit_log WHERE action = 'user_info.delete'")
                .scalar(String.self)
            _ = try await f.auth.createUser(username: username)
        }
    }

    @Test("delete_user refuses a tenant owner with QS002 naming the tenants, and with force deletes the user, leaving other owners")
    func deleteOwner() async throws {
        try await AuthFixture.run { f in
            let owner = try await f.user("owner")
            let coOwner = try await f.user("co-owner")
            let solelyOwned = try await f.tenant("Solely", owner: owner)
            let shared = try await f.tenant("Shared", owner: owner)
            try await f.auth.assignTenantOwner(shared, user: coOwner)
            do {
                try await f.auth.deleteUser(owner)
                Issue.record("a tenant owner was deleted")
            } catch let error as PermissionsError {
                #expect(error.code == .userIsTenantOwner)
                #expect(error.detail?.contains(solelyOwned.description) == true, "\(error)")
                #expect(error.detail?.contains(shared.description) == true, "\(error)")
                #expect(error.hint?.contains("_force := true") == true, "\(error)")
            }
            #expect(try await Self.stored(f, owner) != nil)
            #expect(try await f.auth.hasPermission(tenant: solelyOwned, user: owner, code: Self.anyCode(f)))

            try await f.auth.deleteUser(owner, force: true)
            #expect(try await Self.remnants(f, owner) == [:])
            #expect(try await f.sql("SELECT count(*) FROM auth.owner WHERE tenant_id = $1", [solelyOwned]).scalar(Int.self) == 0)
            #expect(try await f.auth.hasPermission(tenant: shared, user: coOwner, code: Self.anyCode(f)))
        }
    }

    /// A code of the catalogue, created when there is none.
    static func anyCode(_ f: AuthFixture) async throws -> String {
        try await f.catalogue(["docs.read"])
        return "docs.read"
    }

    @Test("delete_user after transfer_tenant_ownership needs no force")
    func deleteAfterTransfer() async throws {
        try await AuthFixture.run { f in
            let owner = try await f.user("owner")
            let successor = try await f.user("successor")
            let tenant = try await f.tenant(owner: owner)
            try await f.auth.transferTenantOwnership(tenant, to: successor)
            try await f.auth.deleteUser(owner)
            #expect(try await Self.stored(f, owner) == nil)
            #expect(try await f.auth.hasPermission(tenant: tenant, user: successor, code: Self.anyCode(f)))
        }
    }

    @Test("delete_user of an unknown user fails with unknownUser; a deleted user is unknown everywhere")
    func deleteUnknown() async throws {
        try await AuthFixture.run { f in
            let before = try await Self.userCount(f)
            await expectError(.unknownUser) { try await f.auth.deleteUser(UserID(UUID())) }
            await expectError(.unknownUser) { try await f.auth.deleteUser(UserID(UUID()), force: true) }
            #expect(try await Self.userCount(f) == before)

            let tenant = try await f.tenant()
            let gone = try await f.member(of: tenant)
            try await f.auth.deleteUser(gone)
            await expectError(.unknownUser) { try await f.auth.deleteUser(gone) }
            await expectError(.unknownUser) { try await f.auth.addUserToTenant(tenant, user: gone) }
            #expect(try await !f.auth.hasPermission(tenant: tenant, user: gone, code: Self.anyCode(f)))
        }
    }

    @Test("delete_user is administration: the application role may not call it")
    func deleteNeedsAdmin() async throws {
        try await AuthFixture.run { f in
            let user = try await f.user("kept")
            let (_, app) = try await f.login(memberOf: "auth_app")
            defer { Task { await app.close() } }
            await expectError(.insufficientPrivilege) { try await AuthClient(app).deleteUser(user) }
            #expect(try await Self.stored(f, user) != nil)
        }
    }
}
