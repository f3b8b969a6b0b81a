import Foundation
import PQ

/// Organizations in the master database: create, list, delete, and which tenants belong to
/// each. SSO settings are in `OrganizationStore+SSO.swift`. Every change is audited in the
/// same transaction as the change.
///
/// Organizations are named by their name or their id (`reference`), whichever the caller has.
public struct OrganizationStore: Sendable {
    let platform: Platform

    public init(platform: Platform) {
        self.platform = platform
    }

    /// Creates an organization.
    ///
    /// - Throws: ``PlatformError`` `.invalidName` (see ``DisplayName``),
    ///   `.invalidEmail`, or `.organizationExists` for a name in use.
    @discardableResult
    public func create(name: String, adminEmail: String) async throws -> Organization {
        let name = try DisplayName.normalized(name, of: "organization")
        let adminEmail = try EmailAddress.normalized(adminEmail)
        return try await platform.changeMaster { tx in
            let id: UUID
            do {
                id = try await tx.query("""
                    INSERT INTO platform.organization (name, admin_email) VALUES ($1, $2) RETURNING organization_id
                    """, [name, adminEmail]).scalar(UUID.self)
            } catch let error as PostgresError where error.code == .uniqueViolation {
                throw PlatformError(.organizationExists, "an organization named '\(name)' exists",
                                    hint: "Pick another name; `pgperm org list` shows the ones in use.")
            }
            try await tx.audit("organization.create", details: [
                "organization": name, "organization_id": id.lowercased, "admin_email": adminEmail])
            return try await Self.require(id.lowercased, on: tx)
        }
    }

    /// Every organization with its tenants, by name.
    public func all() async throws -> [Organization] {
        try await platform.master.query("\(Organization.select) ORDER BY o.name").map(Organization.init(row:))
    }

    public func find(_ reference: String) async throws -> Organization? {
        try await Self.find(reference, on: platform.master)
    }

    /// The organization, or ``PlatformError`` `.unknownOrganization`.
    public func require(_ reference: String) async throws -> Organization {
        try await Self.require(reference, on: platform.master)
    }

    /// Deletes an organization and its SSO settings. Its tenants stay, unlinked (the
    /// foreign key sets their organization to NULL).
    ///
    /// - Returns: the slugs of the tenants that were unlinked.
    @discardableResult
    public func delete(_ reference: String) async throws -> [String] {
        try await platform.changeMaster { tx in
            // Locked first, so no tenant joins it before it is gone. Its tenants are read by a later
            // statement, whose snapshot includes an assignment the lock had to wait for.
            let organization = try await Self.require(reference, on: tx, lock: true)
            let unlinked = try await tx.query("SELECT slug FROM platform.tenant WHERE organization_id = $1 ORDER BY slug",
                                              [organization.id]).rows.map { try $0.decode(String.self, at: 0) }
            try await tx.query("DELETE FROM platform.organization WHERE organization_id = $1", [organization.id])
            try await tx.audit("organization.delete", details: [
                "organization": organization.name, "organization_id": organization.id.description,
                "unlinked_tenants": unlinked.joined(separator: ","),
            ])
            return unlinked
        }
    }

    /// Links a tenant to an organization, moving it from the one it was in.
    ///
    /// - Returns: the name of the organization the tenant was moved from, if any.
    /// - Throws: ``PlatformError`` `.unknownOrganization` or `.unknownTenant`.
    @discardableResult
    public func assign(tenant slug: String, to reference: String) async throws -> String? {
        try await platform.changeMaster { tx in
            let organization = try await Self.require(reference, on: tx, lock: true)
            let tenant = try await TenantDirectory(master: tx).lock(slug: slug)
            let current = tenant.record.organizationID
            guard current != organization.id else { return nil }
            var previous: String?
            if let current { previous = try await Self.find(current.description, on: tx)?.name }
            try await tx.query("UPDATE platform.tenant SET organization_id = $2, updated_at = now() WHERE tenant_id = $1",
                               [tenant.id, organization.id])
            var details = ["organization": organization.name, "organization_id": organization.id.description]
            details["previous_organization"] = previous
            try await tx.audit("organization.assign_tenant", tenant: tenant.record, details: details)
            return previous
        }
    }

    /// Unlinks a tenant from the organization it belongs to.
    ///
    /// - Throws: ``PlatformError`` `.unknownOrganization`, `.unknownTenant`, or `.notAssigned`
    ///   when the tenant is not in that organization.
    public func unassign(tenant slug: String, from reference: String) async throws {
        try await platform.changeMaster { tx in
            let organization = try await Self.require(reference, on: tx)
            let tenant = try await TenantDirectory(master: tx).lock(slug: slug)
            guard tenant.record.organizationID == organization.id else {
                throw PlatformError(.notAssigned, "tenant '\(slug)' is not in organization '\(organization.name)'",
                                    hint: "`pgperm org show \(organization.name)` lists its tenants.")
            }
            try await tx.query("UPDATE platform.tenant SET organization_id = NULL, updated_at = now() WHERE tenant_id = $1", [tenant.id])
            try await tx.audit("organization.unassign_tenant", tenant: tenant.record, details: [
                "organization": organization.name, "organization_id": organization.id.description])
        }
    }

    // MARK: - Lookups shared with the SSO settings

    static func find(_ reference: String, on db: any QueryExecutor, lock: Bool = false) async throws -> Organization? {
        // An id wins over a name that happens to spell another organization's id.
        try await db.query("""
            \(Organization.select)
             WHERE o.name = $1 OR o.organization_id::text = lower($1)
             ORDER BY o.organization_id::text = lower($1) DESC LIMIT 1 \(lock ? "FOR UPDATE OF o" : "")
            """, [reference], prepared: false).rows.first.map(Organization.init(row:))
    }

    static func require(_ reference: String, on db: any QueryExecutor, lock: Bool = false) async throws -> Organization {
        if let organization = try await find(reference, on: db, lock: lock) { return organization }
        throw PlatformError(.unknownOrganization, "no organization is named '\(reference)' or has that id",
                            hint: "`pgperm org list` shows the organizations.")
    }

    /// Locks the tenant's row and returns its organization.
}

extension Platform {
    /// Organizations and their SSO settings.
    public var organizations: OrganizationStore { OrganizationStore(platform: self) }
}

extension UUID {
    /// The lower-case form PostgreSQL prints, for audit details and secret contexts.
    var lowercased: String { uuidString.lowercased() }
}
