import Foundation
import Permissions
import PQ
import Testing

/// API keys: made with a technical user holding what they were given, the secret shown once
/// and kept only as a keyed hash, authenticated in one probe, revoked at once, audited.
@Suite("API keys: a technical user, a secret shown once, revoked at once")
struct APIKeyTests {
    static let later = Date().addingTimeInterval(86_400)

    @Test("a key authenticates as its technical user, who holds exactly the set and codes given")
    func createAndAuthenticate() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["reports.view", "reports.export", "users.view"])
            let tenant = try await f.tenant()
            _ = try await f.auth.createPermSet(tenant: tenant, code: "READ", name: "Read")
            try await f.auth.addPermSetPermissions(tenant: tenant, permSet: "READ", codes: ["reports.view"])
            let key = try await f.auth.createAPIKey(tenant: tenant, name: "nightly export", expiresAt: Self.later,
                                                    permSet: "READ", codes: ["reports.export"])
            #expect(key.secret.wholeMatch(of: /pgpk_[0-9a-f]{64}/) != nil)

            let identity = try #require(try await f.auth.authenticateAPIKey(key.secret))
            #expect(identity.tenant == tenant && identity.user == key.userID && identity.key == key.id)
            #expect(try await f.auth.checkTenantAccess(tenant: tenant, user: key.userID))
            #expect(try await f.auth.userPermissions(tenant: tenant, user: key.userID) == ["reports.export", "reports.view"])
            #expect(try await f.auth.hasPermission(tenant: tenant, user: key.userID, code: "users.view") == false)

            let listed = try #require(try await f.auth.listAPIKeys(tenant: tenant).first)
            #expect(listed.id == key.id && listed.name == "nightly export" && listed.prefix == String(key.secret.prefix(12)))
            #expect(listed.revokedAt == nil && listed.lastUsedAt != nil, "the authentication was recorded")
            // The secret is nowhere in the database, not even hashed plainly.
            let stored = try await f.sql("SELECT count(*) FROM auth.api_key WHERE key_hash IN (convert_to($1, 'UTF8'), sha256(convert_to($1, 'UTF8')))",
                                         [key.secret]).scalar(Int.self)
            #expect(stored == 0)
        }
    }

    @Test("unknown, malformed, revoked and expired keys all get the same answer: none")
    func refusals() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["reports.view"])
            let tenant = try await f.tenant()
            let key = try await f.auth.createAPIKey(tenant: tenant, name: "k", expiresAt: Self.later, codes: ["reports.view"])
            for guess in ["", "pgpk_", "pgpk_" + String(repeating: "0", count: 64), String(key.secret.dropLast()) + "x",
                          key.secret.uppercased(), "Bearer " + key.secret, String(repeating: "p", count: 10_000)] {
                #expect(try await f.auth.authenticateAPIKey(guess) == nil, "\(guess.prefix(20))")
            }
            #expect(try await f.call("SELECT * FROM auth.authenticate_api_key(NULL)").isEmpty)

            let expiring = try await f.auth.createAPIKey(tenant: tenant, name: "old", expiresAt: Self.later, codes: ["reports.view"])
            try await f.sql("UPDATE auth.api_key SET expires_at = now() - interval '1 second' WHERE api_key_id = $1", [expiring.id])
            #expect(try await f.auth.authenticateAPIKey(expiring.secret) == nil)

            try await f.auth.revokeAPIKey(tenant: tenant, key: key.id)
            #expect(try await f.auth.authenticateAPIKey(key.secret) == nil)
            #expect(try await f.auth.hasPermission(tenant: tenant, user: key.userID, code: "reports.view") == false,
                    "its grants stop at once")
            try await f.auth.revokeAPIKey(tenant: tenant, key: key.id)  // again: nothing changes
            #expect(try await f.auth.listAPIKeys(tenant: tenant).first { $0.id == key.id }?.revokedAt != nil)
        }
    }

    @Test("errors by SQLSTATE, and a refused creation leaves neither key nor technical user")
    func errors() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["reports.view"])
            let tenant = try await f.tenant(), other = try await f.tenant("Other")
            func create(_ name: String = "k", expires: Date = Self.later, set: String? = nil, codes: [String]? = ["reports.view"],
                        in tenant: TenantID) async throws {
                _ = try await f.auth.createAPIKey(tenant: tenant, name: name, expiresAt: expires, permSet: set, codes: codes)
            }
            await expectError(.invalidAssignment) { try await create(codes: nil, in: tenant) }
            await expectError(.invalidAssignment) { try await create(codes: [], in: tenant) }
            await expectError(.unknownPermSet) { try await create(set: "NOPE", in: tenant) }
            await expectError(.unknownPermission) { try await create(codes: ["reports.delete"], in: tenant) }
            await expectError(.invalidArgument) { try await create(" ", in: tenant) }
            await expectError(.invalidArgument) { try await create(expires: Date().addingTimeInterval(-1), in: tenant) }
            await expectError(.invalidText) { try await create(String(repeating: "n", count: 201), in: tenant) }
            await expectError(.unknownTenant) { try await create(in: TenantID(UUID())) }
            #expect(try await f.auth.listAPIKeys(tenant: tenant).isEmpty)
            #expect(try await f.auth.listTenantUsers(tenant).isEmpty, "no technical user left behind")

            let theirs = try await f.auth.createAPIKey(tenant: other, name: "theirs", expiresAt: Self.later, codes: ["reports.view"])
            await expectError(.unknownAPIKey) { try await f.auth.revokeAPIKey(tenant: tenant, key: theirs.id) }
            #expect(try await f.auth.authenticateAPIKey(theirs.secret)?.tenant == other)
            await expectError(.invalidPage) { _ = try await f.auth.listAPIKeys(tenant: tenant, pageSize: 0) }
            for half in ["_after_created_at := now()", "_after_api_key_id := gen_random_uuid()"] {
                await expectError(.invalidPage) { try await f.call("SELECT * FROM auth.list_api_keys($1, \(half))", [tenant]) }
            }
        }
    }

    @Test("keys page oldest first; last use is recorded at most once a minute, never in a read-only transaction")
    func pagingAndLastUse() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["reports.view"])
            let tenant = try await f.tenant()
            var ids: [APIKeyID] = []
            for name in ["a", "b", "c"] {
                ids.append(try await f.auth.createAPIKey(tenant: tenant, name: name, expiresAt: Self.later, codes: ["reports.view"]).id)
            }
            let first = try await f.auth.listAPIKeys(tenant: tenant, pageSize: 2)
            let second = try await f.auth.listAPIKeys(tenant: tenant, pageSize: 2, after: first.last?.cursor)
            #expect((first + second).map(\.id) == ids)

            let key = try await f.auth.createAPIKey(tenant: tenant, name: "used", expiresAt: Self.later, codes: ["reports.view"])
            try await f.connection.withTransaction { connection in
                try await connection.query("SET TRANSACTION READ ONLY")
                #expect(try await AuthClient(connection).authenticateAPIKey(key.secret) != nil, "a replica authenticates")
            }
            func lastUse() async throws -> Date? { try await f.auth.listAPIKeys(tenant: tenant).first { $0.id == key.id }?.lastUsedAt }
            #expect(try await lastUse() == nil)
            _ = try await f.auth.authenticateAPIKey(key.secret)
            let used = try #require(try await lastUse())
            _ = try await f.auth.authenticateAPIKey(key.secret)
            #expect(try await lastUse() == used, "not rewritten within the minute")
            // Last use is no event; creation and revocation are, with the hash redacted.
            try await f.auth.revokeAPIKey(tenant: tenant, key: key.id)
            let audit = try await f.auth.listAuditLog(tenant: tenant, action: "api_key", pageSize: 500)
            #expect(audit.filter { $0.action == "api_key.update" }.count == 1)
            #expect(audit.filter { $0.action == "api_key.insert" }.allSatisfy { $0.details.contains("\"key_hash\": \"redacted\"") })
        }
    }

    @Test("the administrator role reads neither the hashes nor the pepper; the application role only authenticates")
    func privileges() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["reports.view"])
            let tenant = try await f.tenant()
            let key = try await f.auth.createAPIKey(tenant: tenant, name: "k", expiresAt: Self.later, codes: ["reports.view"])
            let (_, admin) = try await f.login(memberOf: "auth_admin")
            await #expect(throws: PostgresError.self) { try await admin.query("SELECT key_hash FROM auth.api_key", []) }
            await #expect(throws: PostgresError.self) { try await admin.query("SELECT pepper FROM auth.secret_pepper", []) }
            #expect(try await admin.query("SELECT name FROM auth.api_key", []).count == 1)
            let (_, app) = try await f.login(memberOf: "auth_app")
            #expect(try await AuthClient(app).authenticateAPIKey(key.secret)?.user == key.userID)
            await #expect(throws: (any Error).self) {
                _ = try await AuthClient(app).createAPIKey(tenant: tenant, name: "mine", expiresAt: Self.later, codes: ["reports.view"])
            }
        }
    }
}
