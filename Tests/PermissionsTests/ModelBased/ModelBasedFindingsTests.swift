import Foundation
import Permissions
import PQ
import Testing

/// Focused cases for what the model-based run found, each small enough to read.
@Suite("ModelBased findings")
struct ModelBasedFindingsTests {
    @Test("deleting a parent code by direct DML deletes its descendants, so a re-created parent has no orphans")
    func deletedParentTakesItsSubtree() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let user = try await f.member(of: tenant)
            _ = try await f.auth.createPermission(code: "a.b", name: "a.b")  // also creates "a"
            // Direct DML, as a DBA might, of the parent row only. (Seed 4, step 261 of the model-based run.)
            try await f.sql("DELETE FROM auth.permission WHERE code::text = 'a'")
            #expect(try await f.sql("SELECT count(*) FROM auth.permission").scalar(Int.self) == 0)
            await expectError(.unknownPermission) { _ = try await f.auth.hasPermission(tenant: tenant, user: user, code: "a.b") }

            _ = try await f.auth.createPermission(code: "a.b", name: "a.b")
            try await f.auth.assignPermission(tenant: tenant, to: .user(user), grant: .permission("a"))
            // DESIGN §3: holding a node grants all its descendants.
            #expect(try await f.auth.hasPermission(tenant: tenant, user: user, code: "a.b"))
        }
    }

    @Test("create_permission creates every missing ancestor, also after direct DML deleted one in the middle of the path")
    func createPermissionRestoresMissingAncestors() async throws {
        try await AuthFixture.run { f in
            _ = try await f.auth.createPermission(code: "a.b", name: "a.b")  // also creates "a"
            try await f.sql("DELETE FROM auth.permission WHERE code::text = 'a'")
            _ = try await f.auth.createPermission(code: "a.b.c", name: "a.b.c")
            // The table's own rule: every ancestor of a code exists. Seed 2, step 97 of the model-based run.
            let codes = try await f.sql("SELECT code::text FROM auth.permission ORDER BY 1").map { try $0.decode(String.self, at: 0) }
            #expect(codes == ["a", "a.b", "a.b.c"])
            await #expect(throws: Never.self) {
                _ = try await f.auth.hasPermission(tenant: try await f.tenant(), user: try await f.user(), code: "a")
            }
        }
    }
}
