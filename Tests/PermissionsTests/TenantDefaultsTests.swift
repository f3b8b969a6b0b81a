import Foundation
import Permissions
import PQ
import Testing

/// `sql/platform/tenant_defaults.sql`: the catalogue and the template sets of the tenant roles
/// (README, "Tenant roles") that every platform tenant starts with.
@Suite("Tenant defaults: the Admin, Superuser and User roles")
struct TenantDefaultsTests {
    static func applyDefaults(_ f: AuthFixture) async throws {
        try await f.connection.execute(script: try SQLManifest.embeddedFile("platform/tenant_defaults.sql"))
    }

    @Test("a tenant created after the defaults has the three roles, and each grants what the README's table says")
    func roles() async throws {
        try await AuthFixture.run { f in
            try await Self.applyDefaults(f)
            let tenant = try await f.tenant()
            #expect(try await f.auth.listPermSets(tenant: tenant).map(\.code)
                    == ["ADMIN", "STANDARD_USER", "SUPERUSER", "TENANT_ADMIN", "USER"])
            var holders: [String: UserID] = [:]
            for role in ["ADMIN", "SUPERUSER", "USER"] {
                holders[role] = try await f.member(of: tenant, role.lowercased())
                try await f.auth.assignPermission(tenant: tenant, to: .user(holders[role]!), grant: .permSet(role))
            }
            // Every code of the defaults, and who holds it.
            let expected: [String: Set<String>] = [
                "tenant.view_settings": ["ADMIN", "SUPERUSER", "USER"],
                "tenant.update_settings": ["ADMIN", "SUPERUSER"],
                "users.view": ["ADMIN", "SUPERUSER", "USER"],
                "users.create_user": ["ADMIN"], "users.update_user": ["ADMIN"], "users.deactivate_user": ["ADMIN"],
                "groups.view": ["ADMIN", "SUPERUSER", "USER"],
                "groups.manage": ["ADMIN"],
                "permissions.view": ["ADMIN", "SUPERUSER"],
                "permissions.assign": ["ADMIN"],
            ]
            let leaves = try await f.auth.listPermissions(pageSize: 500).map(\.code).filter { $0.contains(".") }
            #expect(Set(leaves) == Set(expected.keys))
            for (code, roles) in expected {
                for (role, user) in holders {
                    #expect(try await f.auth.hasPermission(tenant: tenant, user: user, code: code) == roles.contains(role),
                            "\(role) \(code)")
                }
            }
            // The earlier defaults hold what their roles hold.
            for (old, role) in [("TENANT_ADMIN", "ADMIN"), ("STANDARD_USER", "USER")] {
                #expect(try await f.auth.listPermSetPermissions(tenant: nil, permSet: old).map(\.code)
                        == f.auth.listPermSetPermissions(tenant: nil, permSet: role).map(\.code))
            }
        }
    }

    @Test("applying the defaults again changes nothing, and keeps what an application declared into a role")
    func reapplied() async throws {
        try await AuthFixture.run { f in
            try await Self.applyDefaults(f)
            let declaration = CatalogueDeclaration(
                permissions: [.init(code: "invoices.view", name: "View invoices")],
                permSets: [.init(code: "ADMIN", name: "Admin", description: "Everything in the tenant",
                                 permissions: ["tenant", "users", "groups", "permissions", "invoices"])])
            #expect(try await f.auth.applyPermissionCatalogue(declaration).count == 3)
            let audit = try await f.sql("SELECT count(*) FROM auth.audit_log").scalar(Int.self)
            try await Self.applyDefaults(f)
            #expect(try await f.sql("SELECT count(*) FROM auth.audit_log").scalar(Int.self) == audit)
            #expect(try await f.auth.listPermSetPermissions(tenant: nil, permSet: "ADMIN").map(\.code).contains("invoices"))
        }
    }
}
