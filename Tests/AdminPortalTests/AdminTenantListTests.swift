import Foundation
import HTTPTypes
import Testing

@Suite("Admin portal: the tenant list's paging, search and filters")
struct AdminTenantListTests {
    @Test("pages of tenants by slug with the total; search in name and slug; filters by status, organization and server")
    func pagingAndFilters() async throws {
        try await PortalFixture.run { fixture, client in
            for slug in ["alpha", "bravo", "charlie", "delta", "echo"] { _ = try await fixture.createTenant(slug) }
            try await fixture.platform.lifecycle.suspend(slug: "delta")
            let organization = try await fixture.platform.platform.organizations.create(name: "Acme Group", adminEmail: "it@acme.test")
            try await fixture.platform.platform.organizations.assign(tenant: "bravo", to: "Acme Group")
            try await fixture.signInAdmin(client)

            let first = try await client.get("/admin/api/tenants?per_page=2")
            #expect(first.list("tenants").map { $0["slug"] as? String } == ["alpha", "bravo"])
            #expect(first.json["total"] as? Int == 5 && first.json["page"] as? Int == 1 && first.json["per_page"] as? Int == 2)
            #expect(try await client.get("/admin/api/tenants?per_page=2&page=3").list("tenants").map { $0["slug"] as? String } == ["echo"])
            let past = try await client.get("/admin/api/tenants?per_page=2&page=9")
            #expect(past.list("tenants").isEmpty && past.json["total"] as? Int == 5, "past the end: empty, with the total")

            // Names are "Alpha"... (capitalized): the search ignores case in names; slugs are lower case.
            #expect(try await client.get("/admin/api/tenants?q=HARL").list("tenants").map { $0["slug"] as? String } == ["charlie"])
            #expect(try await client.get("/admin/api/tenants?q=%25").list("tenants").isEmpty, "% is text, not a wildcard")
            #expect(try await client.get("/admin/api/tenants?status=inactive").list("tenants").map { $0["slug"] as? String } == ["delta"])
            #expect(try await client.get("/admin/api/tenants?organization=\(organization.id)").list("tenants")
                .map { $0["slug"] as? String } == ["bravo"])
            #expect(try await client.get("/admin/api/tenants?organization=none").json["total"] as? Int == 4)
            let server = try #require(try await fixture.platform.platform.servers.all().first?.name)
            #expect(try await client.get("/admin/api/tenants?server=\(server)").json["total"] as? Int == 5)
            #expect(try await client.get("/admin/api/tenants?server=elsewhere").json["total"] as? Int == 0)
        }
    }

    @Test("a parameter that cannot be used is a 400 naming it, not an ignored filter")
    func badParameters() async throws {
        try await PortalFixture.run { fixture, client in
            try await fixture.signInAdmin(client)
            for query in ["page=0", "page=x", "per_page=501", "status=deleted", "organization=acme", "page=99999999999999999999"] {
                let reply = try await client.get("/admin/api/tenants?\(query)")
                #expect(reply.status == .badRequest, "\(query)")
                #expect(reply.errorCode == "invalid_parameter", "\(query)")
                #expect(reply.errorMessage?.contains(String(query.prefix { $0 != "=" })) == true, "\(query)")
            }
            #expect(try await client.get("/admin/api/tenants?q=%00").status == .badRequest)
        }
    }

    @Test("a regular admin's pages hold its granted tenants only, whatever the filters")
    func regularAdminPages() async throws {
        try await PortalFixture.run { fixture, client in
            for slug in ["alpha", "bravo", "charlie"] { _ = try await fixture.createTenant(slug) }
            _ = try await fixture.admins.create(email: "eu@example.com", password: PortalFixture.password, superadmin: false)
            try await fixture.admins.grant(tenant: "alpha", to: "eu@example.com")
            try await fixture.admins.grant(tenant: "charlie", to: "eu@example.com")
            try await fixture.signInAdmin(client, email: "eu@example.com")
            let page = try await client.get("/admin/api/tenants")
            #expect(page.list("tenants").map { $0["slug"] as? String } == ["alpha", "charlie"])
            #expect(page.json["total"] as? Int == 2)
            #expect(try await client.get("/admin/api/tenants?q=bravo").json["total"] as? Int == 0)
        }
    }

    @Test("the tenant's details carry when it was last changed; the connection test its database size")
    func detailsAndTest() async throws {
        try await PortalFixture.run { fixture, client in
            _ = try await fixture.createTenant("acme")
            try await fixture.signInAdmin(client)
            let before = try await client.get("/admin/api/tenants/acme").json
            #expect(before["updated_at"] as? String != nil)
            let test = try await client.send(.post, "/admin/api/tenants/acme/test").json
            #expect((test["database_size_bytes"] as? Int ?? 0) > 1_000_000)
            let servers = try await client.get("/admin/api/servers").jsonArray
            #expect(servers.count == 1 && servers.first?["tenant_count"] as? Int == 1)
            #expect(try await fixture.newClient(like: client).get("/admin/api/servers").status == .unauthorized)
        }
    }
}
