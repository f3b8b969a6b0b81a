import Foundation
import Permissions
import PQ
import Testing

/// Hostile values in every text parameter of the public functions. Each call either fails
/// with one of our documented SQLSTATEs and changes nothing, or succeeds and the value reads
/// back byte for byte; never an injection, a crash or a raw PostgreSQL error.
@Suite("Reliability: hostile input")
struct HostileInputTests {
    // MARK: The values

    struct Hostile: Sendable {
        let name: String
        let value: String
    }

    /// Random bytes made valid UTF-8 (invalid sequences become U+FFFD), without NUL.
    static func junk(count: Int, seed: UInt64) -> String {
        var rng = SplitMix64(seed: seed)
        let bytes = (0..<count).map { _ in UInt8.random(in: 1...255, using: &rng) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Random lower-case letters: valid in a permission code, and incompressible.
    static func letters(count: Int, seed: UInt64) -> String {
        var rng = SplitMix64(seed: seed)
        return String((0..<count).map { _ in Character(UnicodeScalar(UInt8.random(in: 97...122, using: &rng))) })
    }

    static let values: [Hostile] = [
        Hostile(name: "single quotes", value: "O'Brien''s"),
        Hostile(name: "double quotes", value: "say \"hi\""),
        Hostile(name: "backslashes", value: #"C:\new\table\"#),
        Hostile(name: "LIKE wildcards", value: "100%_done_%"),
        Hostile(name: "SQL injection", value: "'; DROP TABLE auth.tenant; --"),
        Hostile(name: "injection via E-string", value: #"\'; DELETE FROM auth.user_info; --"#),
        Hostile(name: "dollar quotes", value: "$$; DROP TABLE auth.tenant; $$ $tag$"),
        Hostile(name: "format specifiers", value: "%s %L %I %1$s {0} ${x}"),
        Hostile(name: "control characters", value: String(String.UnicodeScalarView(
            (Array(1...31) + [127] + Array(0x80...0x9F)).compactMap { UnicodeScalar(UInt32($0)) }))),
        Hostile(name: "random UTF-8 junk", value: junk(count: 2_000, seed: 42)),
        Hostile(name: "emoji", value: "👩‍👩‍👧‍👦🔥🏳️‍🌈"),
        Hostile(name: "right-to-left", value: "\u{202E}gnp.exe \u{05E9}\u{05DC}\u{05D5}\u{05DD} مرحبا\u{202C}"),
        Hostile(name: "combining marks", value: "e\u{0301}\u{0308}\u{0323}Z\u{0336}\u{0489}"),
        Hostile(name: "zero-width only", value: "\u{200B}\u{200C}\u{200D}\u{2060}\u{FEFF}"),
        Hostile(name: "quote and backslash before combining marks", value: "a\"\u{0301}b\\\u{0301}c"),
        Hostile(name: "leading and trailing spaces", value: "  padded  "),
        Hostile(name: "tabs and newlines only", value: "\t\n\r\u{0B}\u{0C}"),
        Hostile(name: "no-break space only", value: "\u{00A0}\u{3000}"),
        Hostile(name: "spaces only", value: "   "),
        Hostile(name: "100k repeated", value: String(repeating: "ab", count: 50_000)),
        Hostile(name: "100k random letters", value: letters(count: 100_000, seed: 7)),
        Hostile(name: "100k random UTF-8 junk", value: junk(count: 100_000, seed: 99)),
    ]

    // MARK: The parameters

    /// What a successful call means for a parameter.
    enum Success: Sendable {
        /// The call stores the value; `readBack` returns it (nil when the row is missing).
        case stores(readBack: @Sendable (AuthFixture, Context) async throws -> String?)
        /// The call looks the value up and may succeed doing nothing (e.g. an idempotent delete).
        case changesNothing
        /// The value is never valid: success is a bug.
        case impossible
    }

    /// Objects each case may use, made fresh for every value.
    struct Context: Sendable {
        let tenant: TenantID
        let user: UserID
        let group: UserGroupID
        /// A unique suffix, for values that must be unique (usernames, codes).
        let unique: String
        /// Set by the call: the id of what it created.
        let created: Box
    }

    final class Box: @unchecked Sendable {
        private let lock = NSLock()
        private var value: UUID?
        var id: UUID? {
            get { lock.withLock { value } }
            set { lock.withLock { value = newValue } }
        }
    }

    struct Parameter: Sendable, CustomTestStringConvertible {
        let name: String
        /// Our SQLSTATEs that are a correct answer to a bad value.
        let allowed: Set<String>
        let call: @Sendable (AuthClient, Context, String) async throws -> Void
        let success: Success
        var testDescription: String { name }
    }

    /// `SELECT column FROM auth.table WHERE key = created id`.
    static func column(_ column: String, of table: String, key: String) -> Success {
        .stores { f, context in
            guard let id = context.created.id else { return nil }
            return try await f.sql("SELECT \(column) FROM auth.\(table) WHERE \(key) = $1", [id]).rows.first?
                .decode(String?.self, at: 0)
        }
    }

    static func userColumn(_ name: String) -> Success { column(name, of: "user_info", key: "user_id") }

    static let parameters: [Parameter] = [
        // Usernames: QI008 for more than 255 characters or whitespace at either end.
        Parameter(name: "create_user._username", allowed: ["QI001", "QI008", "QD002"],
                  call: { auth, c, v in c.created.id = try await auth.createUser(username: v).rawValue },
                  success: userColumn("username")),
        Parameter(name: "create_user._email", allowed: ["QI001"],
                  call: { auth, c, v in c.created.id = try await auth.createUser(username: "u\(c.unique)", email: v).rawValue },
                  success: userColumn("email")),
        Parameter(name: "create_user._display_name", allowed: ["QI001"],
                  call: { auth, c, v in c.created.id = try await auth.createUser(username: "u\(c.unique)", displayName: v).rawValue },
                  success: userColumn("display_name")),
        Parameter(name: "update_user._username", allowed: ["QI001", "QI008", "QD002"],
                  call: { auth, c, v in c.created.id = c.user.rawValue; try await auth.updateUser(c.user, username: v) },
                  success: userColumn("username")),
        Parameter(name: "update_user._email and _display_name", allowed: ["QI001"],
                  call: { auth, c, v in c.created.id = c.user.rawValue; try await auth.updateUser(c.user, email: v, displayName: v) },
                  success: userColumn("display_name")),
        Parameter(name: "create_tenant._name", allowed: ["QI001"],
                  call: { auth, c, v in c.created.id = try await auth.createTenant(name: v, code: "T\(c.unique)").rawValue },
                  success: column("name", of: "tenant", key: "tenant_id")),
        Parameter(name: "create_tenant._code", allowed: ["QI001", "QI003"],
                  call: { auth, c, v in c.created.id = try await auth.createTenant(name: "T", code: v).rawValue },
                  success: .impossible),
        Parameter(name: "update_tenant._name", allowed: ["QI001"],
                  call: { auth, c, v in c.created.id = c.tenant.rawValue; try await auth.updateTenant(c.tenant, name: v) },
                  success: column("name", of: "tenant", key: "tenant_id")),
        Parameter(name: "update_tenant._code", allowed: ["QI001", "QI003"],
                  call: { auth, c, v in try await auth.updateTenant(c.tenant, code: v) }, success: .impossible),
        Parameter(name: "get_tenant_by_code._code", allowed: ["QI001", "QI003"],
                  call: { auth, _, v in _ = try await auth.tenant(code: v) }, success: .impossible),
        Parameter(name: "create_user_group._code", allowed: ["QI001", "QI003"],
                  call: { auth, c, v in _ = try await auth.createUserGroup(tenant: c.tenant, code: v, name: "G") },
                  success: .impossible),
        Parameter(name: "create_user_group._name", allowed: ["QI001"],
                  call: { auth, c, v in
                      c.created.id = try await auth.createUserGroup(tenant: c.tenant, code: "G\(c.unique)", name: v).rawValue
                  },
                  success: column("name", of: "user_group", key: "user_group_id")),
        Parameter(name: "create_perm_set._code", allowed: ["QI001", "QI003"],
                  call: { auth, c, v in _ = try await auth.createPermSet(tenant: c.tenant, code: v, name: "S") },
                  success: .impossible),
        Parameter(name: "create_perm_set._name", allowed: ["QI001"],
                  call: { auth, c, v in
                      c.created.id = try await auth.createPermSet(tenant: c.tenant, code: "S\(c.unique)", name: v).rawValue
                  },
                  success: column("name", of: "perm_set", key: "perm_set_id")),
        Parameter(name: "create_perm_set._description", allowed: [],
                  call: { auth, c, v in
                      c.created.id = try await auth.createPermSet(tenant: nil, code: "S\(c.unique)", name: "S", description: v).rawValue
                  },
                  success: column("description", of: "perm_set", key: "perm_set_id")),
        Parameter(name: "create_permission._code", allowed: ["QI001", "QI002"],
                  call: { auth, c, v in c.created.id = try await auth.createPermission(code: v, name: "P").rawValue },
                  success: column("code::text", of: "permission", key: "permission_id")),
        Parameter(name: "create_permission._name", allowed: ["QI001"],
                  call: { auth, c, v in c.created.id = try await auth.createPermission(code: "p\(c.unique)", name: v).rawValue },
                  success: column("name", of: "permission", key: "permission_id")),
        Parameter(name: "create_permission._description", allowed: [],
                  call: { auth, c, v in
                      c.created.id = try await auth.createPermission(code: "p\(c.unique)", name: "P", description: v).rawValue
                  },
                  success: column("description", of: "permission", key: "permission_id")),
        Parameter(name: "set_user_preference._preference_key", allowed: ["QI001", "QI008"],
                  call: { auth, c, v in try await auth.setUserPreference(user: c.user, tenant: c.tenant, key: v, value: "v") },
                  success: .stores { f, c in
                      // The key is the value under test: read back the only key the member has.
                      try await f.sql("SELECT preference_key FROM auth.user_tenant_preference WHERE user_id = $1",
                                      [c.user]).rows.first?.decode(String.self, at: 0)
                  }),
        Parameter(name: "set_user_preference._preference_value", allowed: [],
                  call: { auth, c, v in try await auth.setUserPreference(user: c.user, tenant: c.tenant, key: "k", value: v) },
                  success: .stores { f, c in try await f.auth.userPreferences(user: c.user, tenant: c.tenant)["k"] }),
        // Lookups: the value names something that does not exist.
        Parameter(name: "delete_user_preference._preference_key", allowed: ["QI001"],
                  call: { auth, c, v in try await auth.deleteUserPreference(user: c.user, tenant: c.tenant, key: v) },
                  success: .changesNothing),
        Parameter(name: "assign_permission._perm_set_code", allowed: ["QI001", "QN004"],
                  call: { auth, c, v in _ = try await auth.assignPermission(tenant: c.tenant, to: .user(c.user), grant: .permSet(v)) },
                  success: .impossible),
        Parameter(name: "assign_permission._perm_code", allowed: ["QI001", "QI002", "QN003"],
                  call: { auth, c, v in
                      _ = try await auth.assignPermission(tenant: c.tenant, to: .group(c.group), grant: .permission(v))
                  },
                  success: .impossible),
        Parameter(name: "add_perm_set_permissions._perm_codes", allowed: ["QI001", "QI002", "QN003"],
                  call: { auth, c, v in try await auth.addPermSetPermissions(tenant: c.tenant, permSet: "S", codes: ["docs", v]) },
                  success: .impossible),
        Parameter(name: "add_perm_set_permissions._perm_set_code", allowed: ["QI001", "QN004"],
                  call: { auth, c, v in try await auth.addPermSetPermissions(tenant: c.tenant, permSet: v, codes: ["docs"]) },
                  success: .impossible),
        Parameter(name: "delete_perm_set._perm_set_code", allowed: ["QI001", "QN004"],
                  call: { auth, c, v in try await auth.deletePermSet(tenant: c.tenant, code: v, force: true) },
                  success: .impossible),
        Parameter(name: "duplicate_perm_set._perm_set_code", allowed: ["QI001", "QN004"],
                  call: { auth, c, v in _ = try await auth.duplicatePermSet(from: c.tenant, to: nil, code: v) },
                  success: .impossible),
        Parameter(name: "delete_permission._code", allowed: ["QI001", "QI002", "QN003"],
                  call: { auth, _, v in try await auth.deletePermission(code: v, force: true) }, success: .impossible),
        Parameter(name: "has_permission._perm_code", allowed: ["QI001", "QI002", "QN003"],
                  call: { auth, c, v in _ = try await auth.hasPermission(tenant: c.tenant, user: c.user, code: v) },
                  success: .impossible),
        Parameter(name: "has_permissions._perm_codes", allowed: ["QI001", "QI002", "QN003"],
                  call: { auth, c, v in _ = try await auth.hasPermissions(tenant: c.tenant, user: c.user, codes: ["docs", v]) },
                  success: .impossible),
        Parameter(name: "require_permission._perm_code", allowed: ["QI001", "QI002", "QN003"],
                  call: { auth, c, v in try await auth.requirePermission(tenant: c.tenant, user: c.user, code: v) },
                  success: .impossible),
        Parameter(name: "explain_permission._perm_code", allowed: ["QI001", "QI002", "QN003"],
                  call: { auth, c, v in _ = try await auth.explainPermission(tenant: c.tenant, user: c.user, code: v) },
                  success: .impossible),
        // Lists: a search or a cursor is only compared, never stored.
        Parameter(name: "list_tenant_users._search", allowed: ["QI001"],
                  call: { auth, c, v in _ = try await auth.listTenantUsers(c.tenant, search: v) }, success: .changesNothing),
        Parameter(name: "list_tenant_users._after", allowed: [],
                  call: { auth, c, v in _ = try await auth.listTenantUsers(c.tenant, after: v) }, success: .changesNothing),
        Parameter(name: "list_permissions._after", allowed: [],
                  call: { auth, _, v in _ = try await auth.listPermissions(after: v) }, success: .changesNothing),
        Parameter(name: "list_perm_set_permissions._perm_set_code", allowed: ["QI001", "QN004"],
                  call: { auth, c, v in _ = try await auth.listPermSetPermissions(tenant: c.tenant, permSet: v) },
                  success: .impossible),
        // Declarations: a name travels inside JSON; the declaration itself must be JSON.
        Parameter(name: "apply_permission_catalogue, a permission's name", allowed: ["QI001"],
                  call: { auth, c, v in
                      try await auth.applyPermissionCatalogue(CatalogueDeclaration(permissions: [.init(code: "p\(c.unique)", name: v)]))
                  },
                  success: .stores { f, c in
                      try await f.sql("SELECT name FROM auth.permission WHERE code::text = $1", ["p\(c.unique)"]).rows.first?
                          .decode(String.self, at: 0)
                  }),
        Parameter(name: "apply_permission_catalogue._declaration", allowed: ["QI010"],
                  call: { auth, _, v in try await auth.applyPermissionCatalogue(json: v) }, success: .impossible),
    ]

    // MARK: The test

    @Test("hostile values in a text parameter: our error and no change, or stored exactly", arguments: parameters)
    func hostile(_ parameter: Parameter) async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["docs.read"])
            for (index, hostile) in Self.values.enumerated() {
                // Fresh objects for each value, so that values never collide with each other.
                let tenant = try await f.tenant()
                let user = try await f.member(of: tenant)
                let group = try await f.auth.createUserGroup(tenant: tenant, code: "G", name: "G")
                _ = try await f.auth.createPermSet(tenant: tenant, code: "S", name: "S")
                let context = Context(tenant: tenant, user: user, group: group, unique: "\(index)_\(UUID().uuidString.prefix(8).lowercased())",
                                      created: Box())
                let before = try await Reliability.snapshot(f.connection)
                let outcome = await Outcome.of { try await parameter.call(f.auth, context, hostile.value) }
                let label = "\(parameter.name) with \(hostile.name)"

                let evaluate = {
                    if outcome.succeeded {
                        switch parameter.success {
                        case .stores(let readBack):
                            let stored = try await readBack(f, context)
                            // Byte for byte: Swift's == would equate canonically equivalent strings.
                            #expect(stored.map { Array($0.utf8) } == Array(hostile.value.utf8),
                                    "\(label): stored \(stored.map { String($0.prefix(80)) } ?? "nothing")")
                        case .changesNothing:
                            let after = try await Reliability.snapshot(f.connection)
                            #expect(Reliability.changed(before, after).isEmpty, "\(label) changed \(Reliability.changed(before, after))")
                        case .impossible:
                            Issue.record("\(label): accepted a value it should have rejected")
                        }
                    } else {
                        #expect(parameter.allowed.contains(outcome.sqlState ?? ""),
                                "\(label): expected one of \(parameter.allowed.sorted()), got \(outcome.description.prefix(300))")
                        let after = try await Reliability.snapshot(f.connection)
                        #expect(Reliability.changed(before, after).isEmpty,
                                "\(label): a rejected call changed \(Reliability.changed(before, after))")
                    }
                }
                try await evaluate()
                #expect(f.connection.transactionState == .idle)
                // Never an injection: the schema still has all its tables.
                #expect(try await f.sql("SELECT to_regclass('auth.tenant') IS NOT NULL AND to_regclass('auth.user_info') IS NOT NULL")
                    .scalar(Bool.self), "\(label)")
                #expect(before["(tables)"] == (try await Reliability.snapshot(f.connection))["(tables)"], "\(label)")
            }
        }
    }
}
