import Foundation
import PQ

/// What the portal's tenant list asks for: a text in the name or slug, a status, an
/// organization (or none), a server, limited to some tenants (a regular admin's), one page.
public struct TenantSearch: Sendable {
    public enum OrganizationFilter: Sendable, Equatable {
        /// Tenants in no organization.
        case none
        case id(OrganizationID)
    }

    /// Found in the name (any case) or the slug.
    public var text: String?
    public var status: TenantRecord.Status?
    public var organization: OrganizationFilter?
    /// The server's name.
    public var server: String?
    /// Only these tenants (a regular admin's grants); nil for every tenant.
    public var within: [PlatformTenantID]?
    /// 1-based.
    public var page: Int
    public var perPage: Int

    public init(text: String? = nil, status: TenantRecord.Status? = nil, organization: OrganizationFilter? = nil,
                server: String? = nil, within: [PlatformTenantID]? = nil, page: Int = 1, perPage: Int = 50) {
        self.text = text
        self.status = status
        self.organization = organization
        self.server = server
        self.within = within
        self.page = page
        self.perPage = perPage
    }
}

/// One page of tenants, by slug, and how many match in all.
public struct TenantPage: Sendable {
    public let tenants: [TenantHandle]
    public let total: Int
}

extension TenantDirectory {
    /// The page of tenants matching `search`, and their number, in one query.
    public func search(_ search: TenantSearch) async throws -> TenantPage {
        var organizationID: OrganizationID?
        var withoutOrganization = false
        switch search.organization {
        case .none?: withoutOrganization = true
        case .id(let id)?: organizationID = id
        case nil: break
        }
        let text = search.text?.trimmingCharacters(in: .whitespaces).lowercased()
        // The page is chosen on the tenant rows alone; only its rows are joined to their
        // server's columns, whose tenant count is a subquery per row.
        let rows = try await master.query("""
            WITH matching AS (
                SELECT t.tenant_id, t.slug
                  FROM platform.tenant t JOIN platform.database_server s ON s.server_id = t.server_id
                 WHERE ($1::text IS NULL OR strpos(lower(t.name), $1) > 0 OR strpos(t.slug, $1) > 0)
                   AND ($2::text IS NULL OR t.status = $2)
                   AND ($3::uuid IS NULL OR t.organization_id = $3)
                   AND (NOT $4 OR t.organization_id IS NULL)
                   AND ($5::text IS NULL OR s.name = $5)
                   AND ($6::uuid[] IS NULL OR t.tenant_id = ANY ($6))),
            page AS (SELECT tenant_id FROM matching ORDER BY slug LIMIT $7 OFFSET $8)
            SELECT \(TenantRecord.columns), \(DatabaseServer.columns), (SELECT count(*) FROM matching) AS total
              FROM page JOIN platform.tenant t USING (tenant_id) JOIN platform.database_server s ON s.server_id = t.server_id
             ORDER BY t.slug
            """, [text?.isEmpty == false ? text : nil, search.status?.rawValue, organizationID, withoutOrganization,
                  search.server, search.within?.map(\.rawValue), search.perPage, (search.page - 1) * search.perPage],
            prepared: true).rows
        let tenants = try rows.map { TenantHandle(record: try TenantRecord(row: $0), server: try DatabaseServer(row: $0)) }
        var total = try rows.first?.decode(Int.self, column: "total") ?? 0
        if rows.isEmpty && search.page > 1 {
            // Past the last page: the count still tells the client where the last page is.
            total = try await self.search(TenantSearch(text: search.text, status: search.status, organization: search.organization,
                                                       server: search.server, within: search.within, page: 1, perPage: 1)).total
        }
        return TenantPage(tenants: tenants, total: total)
    }
}
