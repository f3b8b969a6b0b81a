import Foundation
import HTTPTypes
import Testing

@Suite("Admin portal: the Organizations tab's API")
struct AdminOrganizationTests {
    nonisolated(unsafe) static let sso: [String: Any] = ["entra_tenant_id": "contoso.onmicrosoft.com", "client_id": "0b3c5d7e-1111-4222-8333-944455556666",
                                     "client_secret": "s3cret-value-never-shown", "allowed_domains": ["Contoso.com", "contoso.com"]]

    @Test("a superadmin creates, assigns, configures SSO (the secret never comes back), unassigns and deletes, tenants kept")
    func lifecycle() async throws {
        try await PortalFixture.run { fixture, client in
            _ = try await fixture.createTenant("acme")
            _ = try await fixture.createTenant("beta")
            try await fixture.signInAdmin(client)

            let created = try await client.send(.post, "/admin/api/organizations", json: ["name": "Contoso", "admin_email": "it@contoso.com"])
            #expect(created.status == .created)
            let id = try #require(created.json["id"] as? String)
            #expect(try await client.send(.post, "/admin/api/organizations", json: ["name": "Contoso", "admin_email": "x@y.z"]).errorCode
                    == "organization_exists")

            for slug in ["acme", "beta"] {
                #expect(try await client.send(.put, "/admin/api/organizations/\(id)/tenants/\(slug)").status == .ok)
            }
            #expect(try await client.get("/admin/api/organizations").jsonArray.first?["tenant_slugs"] as? [String] == ["acme", "beta"])
            #expect(try await client.get("/admin/api/tenants/acme").json["organization_id"] as? String == id)
            let unassigned = try await client.send(.delete, "/admin/api/organizations/Contoso/tenants/beta")
            #expect(unassigned.json["tenant_slugs"] as? [String] == ["acme"], "named by name works too")
            #expect(try await client.send(.delete, "/admin/api/organizations/\(id)/tenants/beta").errorCode == "not_assigned")

            #expect(try await client.get("/admin/api/organizations/\(id)/sso").errorCode == "sso_not_configured")
            var withoutSecret = Self.sso
            withoutSecret["client_secret"] = nil
            #expect(try await client.send(.put, "/admin/api/organizations/\(id)/sso", json: withoutSecret).errorCode == "invalid_sso_settings",
                    "the first settings need a secret")
            let set = try await client.send(.put, "/admin/api/organizations/\(id)/sso", json: Self.sso)
            #expect(set.status == .ok)
            #expect(set.json["allowed_domains"] as? [String] == ["contoso.com"])
            #expect(set.json["has_client_secret"] as? Bool == true)
            let read = try await client.get("/admin/api/organizations/\(id)/sso")
            #expect(!String(decoding: read.body + set.body, as: UTF8.self).contains("s3cret"), "write-only")
            // Changing the domains keeps the secret.
            withoutSecret["allowed_domains"] = ["fabrikam.com"]
            #expect(try await client.send(.put, "/admin/api/organizations/\(id)/sso", json: withoutSecret).status == .ok)
            let kept = try await fixture.platform.platform.organizations.sso(of: id, revealingSecret: true)
            #expect(kept?.clientSecret == "s3cret-value-never-shown" && kept?.allowedDomains == ["fabrikam.com"])
            #expect(try await client.get("/admin/api/organizations").jsonArray.first?["has_sso"] as? Bool == true)
            #expect(try await client.send(.delete, "/admin/api/organizations/\(id)/sso").status == .noContent)
            #expect(try await client.send(.delete, "/admin/api/organizations/\(id)/sso").errorCode == "sso_not_configured")

            let deleted = try await client.send(.delete, "/admin/api/organizations/\(id)")
            #expect(deleted.json["unlinked_tenants"] as? [String] == ["acme"])
            #expect(try await client.get("/admin/api/organizations/\(id)").errorCode == "unknown_organization")
            let acme = try await client.get("/admin/api/tenants/acme")
            #expect(acme.status == .ok && acme.json["organization_id"] == nil, "the tenant stays, unlinked")
            let actions = try await fixture.platform.auditActions()
            for action in ["organization.create", "organization.assign_tenant", "organization.unassign_tenant", "organization.sso_set",
                           "organization.sso_remove", "organization.delete"] {
                #expect(actions.contains(action), "\(action)")
            }
        }
    }

    @Test("bad input: invalid names, emails, ids and domains are 400; unknown organizations and tenants 404")
    func badInput() async throws {
        try await PortalFixture.run { fixture, client in
            try await fixture.signInAdmin(client)
            #expect(try await client.send(.post, "/admin/api/organizations", json: ["name": " ", "admin_email": "a@b.c"]).status == .badRequest)
            #expect(try await client.send(.post, "/admin/api/organizations", json: ["name": "X", "admin_email": "nope"]).errorCode == "invalid_email")
            #expect(try await client.send(.post, "/admin/api/organizations", json: ["name": "X"]).errorCode == "missing_field")
            let id = try #require(try await client.send(.post, "/admin/api/organizations", json: ["name": "X", "admin_email": "a@b.c"]).json["id"] as? String)
            var sso = Self.sso
            sso["client_id"] = "not-a-guid"
            #expect(try await client.send(.put, "/admin/api/organizations/\(id)/sso", json: sso).errorCode == "invalid_sso_settings")
            sso = Self.sso
            sso["allowed_domains"] = ["not a domain"]
            #expect(try await client.send(.put, "/admin/api/organizations/\(id)/sso", json: sso).errorCode == "invalid_domain")
            #expect(try await client.send(.put, "/admin/api/organizations/\(id)/tenants/nope").errorCode == "unknown_tenant")
            #expect(try await client.send(.put, "/admin/api/organizations/nope/tenants/nope").errorCode == "unknown_organization")
            #expect(try await client.send(.delete, "/admin/api/organizations/nope").status == .notFound)
        }
    }

    @Test("a regular admin reads organizations with its own tenants only and changes nothing (403); signed out is 401")
    func roles() async throws {
        try await PortalFixture.run { fixture, client in
            _ = try await fixture.createTenant("acme")
            _ = try await fixture.createTenant("beta")
            let organizations = fixture.platform.platform.organizations
            let organization = try await organizations.create(name: "Contoso", adminEmail: "it@contoso.com")
            try await organizations.assign(tenant: "acme", to: "Contoso")
            try await organizations.assign(tenant: "beta", to: "Contoso")
            _ = try await fixture.admins.create(email: "eu@example.com", password: PortalFixture.password, superadmin: false)
            try await fixture.admins.grant(tenant: "acme", to: "eu@example.com")

            let anonymous = fixture.newClient(like: client)
            #expect(try await anonymous.get("/admin/api/organizations").status == .unauthorized)
            #expect(try await anonymous.get("/admin/api/organizations/\(organization.id)").status == .unauthorized)

            try await fixture.signInAdmin(client, email: "eu@example.com")
            #expect(try await client.get("/admin/api/organizations").jsonArray.first?["tenant_slugs"] as? [String] == ["acme"])
            #expect(try await client.get("/admin/api/organizations/\(organization.id)").json["tenant_slugs"] as? [String] == ["acme"])
            let refused: [(HTTPRequest.Method, String, [String: Any]?)] = [
                (.post, "/admin/api/organizations", ["name": "Mine", "admin_email": "a@b.c"]),
                (.delete, "/admin/api/organizations/\(organization.id)", nil),
                (.put, "/admin/api/organizations/\(organization.id)/tenants/acme", nil),
                (.delete, "/admin/api/organizations/\(organization.id)/tenants/acme", nil),
                (.get, "/admin/api/organizations/\(organization.id)/sso", nil),
                (.put, "/admin/api/organizations/\(organization.id)/sso", Self.sso),
                (.delete, "/admin/api/organizations/\(organization.id)/sso", nil),
            ]
            for (method, uri, json) in refused {
                let reply = try await client.send(method, uri, json: json)
                #expect(reply.status == .forbidden && reply.errorCode == "forbidden", "\(method) \(uri)")
            }
            #expect(try await organizations.require("Contoso").tenantSlugs == ["acme", "beta"])
        }
    }
}
