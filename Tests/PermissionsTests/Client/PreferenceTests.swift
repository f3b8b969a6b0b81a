import Foundation
import Permissions
import PQ
import Testing

@Suite("User preferences")
struct PreferenceTests {
    static func rowCount(_ f: AuthFixture) async throws -> Int {
        try await f.sql("SELECT count(*) FROM auth.user_tenant_preference").scalar(Int.self)
    }

    @Test("set_user_preference stores a value that get_user_preferences returns")
    func setAndGet() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let user = try await f.member(of: tenant)
            #expect(try await f.auth.userPreferences(user: user, tenant: tenant).isEmpty)

            try await f.auth.setUserPreference(user: user, tenant: tenant, key: "theme", value: "dark")
            try await f.auth.setUserPreference(user: user, tenant: tenant, key: "language", value: "fr")
            #expect(try await f.auth.userPreferences(user: user, tenant: tenant) == ["theme": "dark", "language": "fr"])
            #expect(try await f.sql("""
                SELECT preference_value FROM auth.user_tenant_preference
                 WHERE user_id = $1 AND tenant_id = $2 AND preference_key = 'theme'
                """, [user, tenant]).scalar(String.self) == "dark")
        }
    }

    @Test("get_user_preferences lists keys in order")
    func ordered() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let user = try await f.member(of: tenant)
            for key in ["zoom", "alpha", "middle"] {
                try await f.auth.setUserPreference(user: user, tenant: tenant, key: key, value: key.uppercased())
            }
            let keys = try await f.sql("SELECT preference_key FROM auth.get_user_preferences($1, $2)", [user, tenant])
                .map { try $0.decode(String.self, at: 0) }
            #expect(keys == ["alpha", "middle", "zoom"])
        }
    }

    @Test("setting a key again replaces its value (upsert) and keeps one row")
    func upsert() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let user = try await f.member(of: tenant)
            try await f.auth.setUserPreference(user: user, tenant: tenant, key: "theme", value: "dark")
            try await f.auth.setUserPreference(user: user, tenant: tenant, key: "theme", value: "light")
            #expect(try await f.auth.userPreferences(user: user, tenant: tenant) == ["theme": "light"])
            #expect(try await Self.rowCount(f) == 1)
        }
    }

    @Test("an empty value is a value, distinct from no preference")
    func emptyValue() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let user = try await f.member(of: tenant)
            try await f.auth.setUserPreference(user: user, tenant: tenant, key: "signature", value: "")
            #expect(try await f.auth.userPreferences(user: user, tenant: tenant) == ["signature": ""])
        }
    }

    @Test("preferences belong to one user in one tenant")
    func scopedToUserAndTenant() async throws {
        try await AuthFixture.run { f in
            let a = try await f.tenant("A")
            let b = try await f.tenant("B")
            let user = try await f.member(of: a)
            try await f.auth.addUserToTenant(b, user: user)
            let colleague = try await f.member(of: a)
            try await f.auth.setUserPreference(user: user, tenant: a, key: "theme", value: "dark")
            try await f.auth.setUserPreference(user: user, tenant: b, key: "theme", value: "light")
            try await f.auth.setUserPreference(user: colleague, tenant: a, key: "theme", value: "blue")

            #expect(try await f.auth.userPreferences(user: user, tenant: a) == ["theme": "dark"])
            #expect(try await f.auth.userPreferences(user: user, tenant: b) == ["theme": "light"])
            #expect(try await f.auth.userPreferences(user: colleague, tenant: a) == ["theme": "blue"])
            #expect(try await f.auth.userPreferences(user: colleague, tenant: b).isEmpty)
        }
    }

    @Test("delete_user_preference deletes one key; deleting a missing key does nothing")
    func delete() async throws {
        try await AuthFixture.run { f in
            let a = try await f.tenant("A")
            let b = try await f.tenant("B")
            let user = try await f.member(of: a)
            try await f.auth.addUserToTenant(b, user: user)
            try await f.auth.setUserPreference(user: user, tenant: a, key: "theme", value: "dark")
            try await f.auth.setUserPreference(user: user, tenant: a, key: "language", value: "fr")
            try await f.auth.setUserPreference(user: user, tenant: b, key: "theme", value: "light")

            try await f.auth.deleteUserPreference(user: user, tenant: a, key: "theme")
            #expect(try await f.auth.userPreferences(user: user, tenant: a) == ["language": "fr"])
            #expect(try await f.auth.userPreferences(user: user, tenant: b) == ["theme": "light"])

            try await f.auth.deleteUserPreference(user: user, tenant: a, key: "theme")
            try await f.auth.deleteUserPreference(user: user, tenant: a, key: "never-set")
            #expect(try await Self.rowCount(f) == 2)
        }
    }

    @Test("only a member of the tenant can have preferences there")
    func nonMember() async throws {
        try await AuthFixture.run { f in
            let a = try await f.tenant("A")
            let b = try await f.tenant("B")
            let memberOfB = try await f.member(of: b)
            let outsider = try await f.user("outsider")
            await expectError(.notTenantMember) {
                try await f.auth.setUserPreference(user: outsider, tenant: a, key: "theme", value: "dark")
            }
            await expectError(.notTenantMember) {
                try await f.auth.setUserPreference(user: memberOfB, tenant: a, key: "theme", value: "dark")
            }
            #expect(try await Self.rowCount(f) == 0)
            // Reading or deleting for a non-member is not an error: there is simply nothing.
            #expect(try await f.auth.userPreferences(user: outsider, tenant: a).isEmpty)
            try await f.auth.deleteUserPreference(user: outsider, tenant: a, key: "theme")
        }
    }

    @Test("a member whose membership is inactive keeps and may set preferences; a hard removal deletes them")
    func membershipLifecycle() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let user = try await f.member(of: tenant)
            try await f.auth.setUserPreference(user: user, tenant: tenant, key: "theme", value: "dark")

            try await f.auth.removeUserFromTenant(tenant, user: user)
            #expect(try await f.auth.userPreferences(user: user, tenant: tenant) == ["theme": "dark"])
            try await f.auth.setUserPreference(user: user, tenant: tenant, key: "language", value: "fr")

            try await f.auth.removeUserFromTenant(tenant, user: user, hard: true)
            #expect(try await f.auth.userPreferences(user: user, tenant: tenant).isEmpty)
            #expect(try await Self.rowCount(f) == 0)
        }
    }

    @Test("set, get and delete refuse unknown users and tenants and blank keys, changing nothing")
    func errors() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let user = try await f.member(of: tenant)
            try await f.auth.setUserPreference(user: user, tenant: tenant, key: "theme", value: "dark")

            await expectError(.unknownUser) { try await f.auth.setUserPreference(user: UserID(UUID()), tenant: tenant, key: "k", value: "v") }
            await expectError(.unknownTenant) { try await f.auth.setUserPreference(user: user, tenant: TenantID(UUID()), key: "k", value: "v") }
            await expectError(.invalidArgument) { try await f.auth.setUserPreference(user: user, tenant: tenant, key: "", value: "v") }
            await expectError(.invalidArgument) { try await f.auth.setUserPreference(user: user, tenant: tenant, key: "  ", value: "v") }

            await expectError(.unknownUser) { _ = try await f.auth.userPreferences(user: UserID(UUID()), tenant: tenant) }
            await expectError(.unknownTenant) { _ = try await f.auth.userPreferences(user: user, tenant: TenantID(UUID())) }

            await expectError(.unknownUser) { try await f.auth.deleteUserPreference(user: UserID(UUID()), tenant: tenant, key: "theme") }
            await expectError(.unknownTenant) { try await f.auth.deleteUserPreference(user: user, tenant: TenantID(UUID()), key: "theme") }
            await expectError(.invalidArgument) { try await f.auth.deleteUserPreference(user: user, tenant: tenant, key: "") }

            #expect(try await f.auth.userPreferences(user: user, tenant: tenant) == ["theme": "dark"])
            #expect(try await Self.rowCount(f) == 1)
        }
    }

    @Test("a NULL value, which the typed wrapper cannot send, is refused from SQL with QI001 and keeps the old value")
    func nullValueFromSQL() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let user = try await f.member(of: tenant)
            try await f.auth.setUserPreference(user: user, tenant: tenant, key: "theme", value: "dark")
            let error = try await #require(throws: PostgresError.self) {
                try await f.sql("SELECT auth.set_user_preference($1, $2, 'theme', NULL)", [user, tenant])
            }
            #expect(PermissionsError(error)?.code == .invalidArgument, "\(error)")
            #expect(try await f.auth.userPreferences(user: user, tenant: tenant) == ["theme": "dark"])
        }
    }

    @Test("the reference's direct upsert on auth.user_tenant_preference is read back by get_user_preferences")
    func directUpsert() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let user = try await f.member(of: tenant)
            for value in ["dark", "light"] {
                try await f.sql("""
                    INSERT INTO auth.user_tenant_preference (user_id, tenant_id, preference_key, preference_value)
                    VALUES ($1, $2, 'theme', $3)
                    ON CONFLICT (user_id, tenant_id, preference_key)
                    DO UPDATE SET preference_value = EXCLUDED.preference_value
                    """, [user, tenant, value])
            }
            #expect(try await f.auth.userPreferences(user: user, tenant: tenant) == ["theme": "light"])
        }
    }

    @Test("a key of 255 characters is accepted; a longer one is QI008 (direct SQL: a CHECK); values have no limit")
    func keyLength() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let user = try await f.member(of: tenant)
            let longest = String(repeating: "k", count: 255)
            let bigValue = String(repeating: "v", count: 100_000)
            try await f.auth.setUserPreference(user: user, tenant: tenant, key: longest, value: bigValue)
            #expect(try await f.auth.userPreferences(user: user, tenant: tenant) == [longest: bigValue])
            await expectError(.invalidText) {
                try await f.auth.setUserPreference(user: user, tenant: tenant, key: longest + "k", value: "v")
            }
            await expectError(.invalidArgument) {
                try await f.auth.setUserPreference(user: user, tenant: tenant, key: "\u{200B}\t", value: "v")
            }
            let error = await #expect(throws: PostgresError.self) {
                try await f.sql("INSERT INTO auth.user_tenant_preference (user_id, tenant_id, preference_key) VALUES ($1, $2, repeat('k', 256))",
                                [user, tenant])
            }
            #expect(error?.code == .checkViolation)
            #expect(try await Self.rowCount(f) == 1)
        }
    }
}
