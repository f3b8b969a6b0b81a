import Foundation
import PlatformTestSupport
import PQ
import TenantPlatform
import Testing

@Suite("Platform: organizations")
struct OrganizationStoreTests {
    @Test("create, list with tenant counts, find by name or id, assign and unassign tenants; all audited")
    func lifecycle() async throws {
        try await PlatformFixture.run { f in
            let organizations = f.platform.organizations
            let globex = try await organizations.create(name: " Globex ", adminEmail: "Ops@Globex.EXAMPLE")
            #expect(globex.name == "Globex")
            #expect(globex.adminEmail == "Ops@globex.example")
            #expect(globex.tenantSlugs.isEmpty && !globex.hasSSO)
            let acme = try await organizations.create(name: "Acme", adminEmail: "it@acme.example")
            for slug in ["acme-eu", "acme-us", "loner"] { try await f.registerTenant(slug) }

            #expect(try await organizations.assign(tenant: "acme-us", to: "Acme") == nil)
            #expect(try await organizations.assign(tenant: "acme-eu", to: acme.id.description) == nil)
            #expect(try await organizations.assign(tenant: "acme-eu", to: "Acme") == nil, "assigning again changes nothing")
            let listed = try await organizations.all()
            #expect(listed.map(\.name) == ["Acme", "Globex"])
            #expect(listed.map(\.tenantCount) == [2, 0])
            #expect(listed[0].tenantSlugs == ["acme-eu", "acme-us"])
            #expect(try await organizations.require(acme.id.description) == listed[0])
            #expect(try await organizations.find("acme") == nil, "names compare exactly")
            #expect(try await f.platform.directory.require(slug: "acme-eu").organizationID == acme.id)
            #expect(try await f.platform.directory.require(slug: "loner").organizationID == nil)

            // Assigning to another organization moves the tenant.
            #expect(try await organizations.assign(tenant: "acme-eu", to: "Globex") == "Acme")
            #expect(try await organizations.require("Globex").tenantSlugs == ["acme-eu"])
            try await organizations.unassign(tenant: "acme-us", from: "Acme")
            #expect(try await organizations.require("Acme").tenantSlugs == [])
            #expect(try await f.platform.directory.require(slug: "acme-us").organizationID == nil)

            #expect(try await f.auditActions() == [
                "organization.create", "organization.create", "organization.assign_tenant", "organization.assign_tenant",
                "organization.assign_tenant", "organization.unassign_tenant",
            ])
            #expect(try await f.masterStrings("""
                SELECT tenant_slug || ' ' || (details->>'organization') || ' from ' || (details->>'previous_organization')
                  FROM platform.audit_log WHERE details ? 'previous_organization'
                """) == ["acme-eu Globex from Acme"])
        }
    }

    @Test("deleting an organization unlinks its tenants, keeps them and their databases, and drops its SSO settings")
    func deleteUnlinksTenants() async throws {
        try await PlatformFixture.run { f in
            let organizations = f.platform.organizations
            try await f.provisioner.create(name: "Acme", slug: "acme")
            try await f.provisioner.create(name: "Globex", slug: "globex")
            try await organizations.create(name: "Doomed", adminEmail: "ops@doomed.example")
            try await organizations.create(name: "Survivor", adminEmail: "ops@survivor.example")
            try await organizations.assign(tenant: "acme", to: "Doomed")
            try await organizations.assign(tenant: "globex", to: "Survivor")
            try await organizations.setSSO(of: "Doomed", entraTenantID: UUID().uuidString, clientID: UUID().uuidString,
                                           clientSecret: "s3cret", allowedDomains: ["doomed.example"])

            #expect(try await organizations.delete("Doomed") == ["acme"])
            #expect(try await organizations.find("Doomed") == nil)
            let acme = try await f.platform.directory.require(slug: "acme")
            #expect(acme.organizationID == nil)
            #expect(acme.status == .active)
            #expect(try await f.lifecycle.test(slug: "acme").schemaVersion != nil, "its database is untouched")
            #expect(try await f.platform.directory.require(slug: "globex").organizationID != nil, "other organizations keep theirs")
            #expect(try await f.masterStrings("SELECT count(*)::text FROM platform.organization_sso") == ["0"])
            #expect(try await f.masterStrings("""
                SELECT details->>'unlinked_tenants' FROM platform.audit_log WHERE action = 'organization.delete'
                """) == ["acme"])
            await #expect(throws: PlatformError(.unknownOrganization, "no organization is named 'Doomed' or has that id",
                                                hint: "`pgperm org list` shows the organizations.")) {
                try await organizations.delete("Doomed")
            }
        }
    }

    @Test("malformed names and emails, taken names, unknown organizations and tenants get clear errors")
    func refusals() async throws {
        try await PlatformFixture.run { f in
            let organizations = f.platform.organizations
            try await organizations.create(name: "Acme", adminEmail: "it@acme.example")
            try await f.registerTenant("acme")
            #expect(await platformErrorKind { try await organizations.create(name: "Acme", adminEmail: "x@acme.example") } == .organizationExists)
            #expect(await platformErrorKind { try await organizations.create(name: "  ", adminEmail: "x@acme.example") } == .invalidName)
            #expect(await platformErrorKind { try await organizations.create(name: "A\u{7}b", adminEmail: "x@acme.example") } == .invalidName)
            #expect(await platformErrorKind { try await organizations.create(name: String(repeating: "n", count: 201), adminEmail: "x@a.example") }
                == .invalidName)
            #expect(await platformErrorKind { try await organizations.create(name: "Initech", adminEmail: "not-an-email") } == .invalidEmail)
            #expect(await platformErrorKind { _ = try await organizations.require("Initech") } == .unknownOrganization)
            #expect(await platformErrorKind { try await organizations.assign(tenant: "acme", to: "Initech") } == .unknownOrganization)
            #expect(await platformErrorKind { try await organizations.assign(tenant: "nope", to: "Acme") } == .unknownTenant)
            #expect(await platformErrorKind { try await organizations.unassign(tenant: "nope", from: "Acme") } == .unknownTenant)
            #expect(await platformErrorKind { try await organizations.unassign(tenant: "acme", from: "Acme") } == .notAssigned)
            #expect(await platformErrorKind { try await organizations.unassign(tenant: "acme", from: "Initech") } == .unknownOrganization)
            #expect(await platformErrorKind { _ = try await organizations.sso(of: "Initech") } == .unknownOrganization)
            #expect(await platformErrorKind { try await organizations.removeSSO(of: "Initech") } == .unknownOrganization)

            #expect(try await organizations.all().map(\.name) == ["Acme"])
            #expect(try await f.auditActions() == ["organization.create"], "refusals change and audit nothing")
        }
    }
}
