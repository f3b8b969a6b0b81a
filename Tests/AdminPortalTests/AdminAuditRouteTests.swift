import Foundation
import Testing

@Suite("Admin portal: the audit view's API")
struct AdminAuditRouteTests {
    @Test("portal actions appear newest first under the admin's email, filtered by admin, tenant and action, paged")
    func filtersAndPaging() async throws {
        try await PortalFixture.run { fixture, client in
            try await fixture.signInAdmin(client)
            for slug in ["acme", "beta"] {
                #expect(try await client.send(.post, "/admin/api/tenants", json: ["name": slug.capitalized, "slug": slug]).status == .created)
            }
            _ = try await client.get("/admin/api/tenants/acme/credentials")
            #expect(try await client.send(.patch, "/admin/api/tenants/acme", json: ["slug": "acme-eu"]).status == .ok)
            _ = try await client.send(.post, "/admin/api/organizations", json: ["name": "Contoso", "admin_email": "it@contoso.com"])

            let all = try await client.get("/admin/api/audit").list("items")
            #expect(all.first?["action"] as? String == "organization.create", "newest first")
            // What the portal did is under the admin's email (the fixture's own rows, written before, are not).
            let portalRows = all.prefix { $0["action"] as? String != "admin_user.create" }
            #expect(portalRows.count == 6 && portalRows.allSatisfy { $0["actor"] as? String == PortalFixture.superadminEmail },
                    "five changes and the sign-in")
            let ids = all.compactMap { $0["id"] as? Int }
            #expect(ids == ids.sorted(by: >))

            // A tenant's history across its rename, found by its slug now or then.
            let acme = try await client.get("/admin/api/audit?tenant=acme-eu").list("items").compactMap { $0["action"] as? String }
            #expect(acme.contains("tenant.create") && acme.contains("tenant.credentials_shown"))
            #expect(try await client.get("/admin/api/audit?tenant=acme").list("items").count == acme.count)
            #expect(try await client.get("/admin/api/audit?action=tenant.credentials_shown").list("items").count == 1)
            #expect(try await client.get("/admin/api/audit?action=organization.").list("items").count == 1)
            #expect(try await client.get("/admin/api/audit?action=tenant").list("items").isEmpty, "a family ends in a dot")
            #expect(try await client.get("/admin/api/audit?admin=ROOT@example.com").list("items").count == portalRows.count)
            #expect(try await client.get("/admin/api/audit?admin=else@example.com").list("items").isEmpty)

            let first = try await client.get("/admin/api/audit?limit=2")
            #expect(first.list("items").count == 2)
            let cursor = try #require(first.json["next"] as? String)
            let second = try await client.get("/admin/api/audit?limit=2&after=\(cursor)").list("items")
            #expect(second.compactMap { $0["id"] as? Int } == Array(ids.dropFirst(2).prefix(2)))
            let last = try await client.get("/admin/api/audit?limit=500")
            #expect(last.json["next"] is NSNull, "null after a page that was not full")
            #expect(try await client.get("/admin/api/audit?limit=0").errorCode == "invalid_parameter")
            #expect(try await client.get("/admin/api/audit?after=bm9wZQ").errorCode == "invalid_parameter", "a cursor of another list")
        }
    }

    @Test("a regular admin reads the rows of its own tenants only")
    func regularAdminScope() async throws {
        try await PortalFixture.run { fixture, client in
            try await fixture.signInAdmin(client)
            for slug in ["acme", "beta"] {
                _ = try await client.send(.post, "/admin/api/tenants", json: ["name": slug.capitalized, "slug": slug])
            }
            _ = try await fixture.admins.create(email: "eu@example.com", password: PortalFixture.password, superadmin: false)
            try await fixture.admins.grant(tenant: "acme", to: "eu@example.com")
            let eu = fixture.newClient(like: client)
            try await fixture.signInAdmin(eu, email: "eu@example.com")
            _ = try await eu.get("/admin/api/tenants/acme/credentials")
            let entries = try await eu.get("/admin/api/audit").list("items")
            #expect(!entries.isEmpty)
            #expect(entries.allSatisfy { $0["tenant_slug"] as? String == "acme" })
            #expect(entries.contains { $0["actor"] as? String == "eu@example.com" && $0["action"] as? String == "tenant.credentials_shown" })
            #expect(try await eu.get("/admin/api/audit?tenant=beta").list("items").isEmpty)
            #expect(try await fixture.newClient(like: client).get("/admin/api/audit").status == .unauthorized)
        }
    }
}
