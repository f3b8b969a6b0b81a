import Foundation
import PQ

/// One row of the platform audit log.
public struct AuditEntry: Sendable, Equatable {
    public let id: Int64
    public let occurredAt: Date
    /// The admin's email (portal), the operator's name (CLI), or the database role.
    public let actor: String
    public let action: String
    /// The tenant's slug when the action happened.
    public let tenantSlug: String?
    public let details: [String: String]
}

/// Which audit rows to read: newest first, after a cursor (`before`, an entry id), filtered.
public struct AuditQuery: Sendable {
    /// The actor, any case (an admin's email).
    public var actor: String?
    /// Rows of every tenant that has or ever had this slug, under all of its slugs: a
    /// tenant's whole history, from any of its names.
    public var tenant: String?
    /// An action (`tenant.delete`) or a family of them (`tenant.`).
    public var action: String?
    /// Only rows of these tenants (a regular admin's); nil for every row.
    public var within: [PlatformTenantID]?
    public var before: Int64?
    public var limit: Int

    public init(actor: String? = nil, tenant: String? = nil, action: String? = nil, within: [PlatformTenantID]? = nil,
                before: Int64? = nil, limit: Int = 50) {
        self.actor = actor
        self.tenant = tenant
        self.action = action
        self.within = within
        self.before = before
        self.limit = limit
    }
}

extension Platform {
    /// The platform audit log, newest first (keyset paging on the entry id).
    public func auditLog(_ query: AuditQuery) async throws -> [AuditEntry] {
        let blank = { (text: String?) -> String? in
            guard let trimmed = text?.trimmingCharacters(in: .whitespaces), !trimmed.isEmpty else { return nil }
            return trimmed
        }
        return try await master.query("""
            SELECT l.audit_id, l.occurred_at, l.actor, l.action, l.tenant_slug, l.details::text AS details
              FROM platform.audit_log l
             WHERE ($1::text IS NULL OR lower(l.actor) = lower($1))
               AND ($2::text IS NULL OR l.tenant_slug = $2
                    OR l.tenant_id IN (SELECT t.tenant_id FROM platform.tenant t WHERE t.slug = $2
                                       UNION SELECT a.tenant_id FROM platform.audit_log a WHERE a.tenant_slug = $2))
               AND ($3::text IS NULL OR l.action = $3 OR (right($3, 1) = '.' AND starts_with(l.action, $3)))
               AND ($4::uuid[] IS NULL OR l.tenant_id = ANY ($4))
               AND ($5::bigint IS NULL OR l.audit_id < $5)
             ORDER BY l.audit_id DESC
             LIMIT $6
            """, [blank(query.actor), blank(query.tenant), blank(query.action), query.within?.map(\.rawValue), query.before,
                  query.limit], prepared: true).map { row in
            let json = Data(try row.decode(String.self, column: "details").utf8)
            let object = (try? JSONSerialization.jsonObject(with: json)) as? [String: Any] ?? [:]
            return AuditEntry(id: try row.decode(column: "audit_id"), occurredAt: try row.decode(column: "occurred_at"),
                              actor: try row.decode(column: "actor"), action: try row.decode(column: "action"),
                              tenantSlug: try row.decode(column: "tenant_slug"),
                              details: object.mapValues { $0 as? String ?? "\($0)" })
        }
    }
}
