/// What an update of a tenant changes; a nil field stays as it is. The CLI
/// (`pgperm tenant update`) and the portal (`PATCH /admin/api/tenants/{slug}`) both build one
/// and hand it to ``TenantLifecycle/update(slug:_:)``, where the rules live.
public struct TenantChange: Sendable, Equatable {
    public var name: String?
    public var slug: String?
    /// `active` (resume) or `inactive` (suspend); see ``status(_:)``.
    public var status: TenantRecord.Status?

    public init(name: String? = nil, slug: String? = nil, status: TenantRecord.Status? = nil) {
        self.name = name
        self.slug = slug
        self.status = status
    }

    public var isEmpty: Bool { name == nil && slug == nil && status == nil }

    /// A status an update may set, from its name.
    ///
    /// - Throws: ``PlatformError`` `.invalidStatus` for anything but `active` and `inactive`:
    ///   the other statuses belong to creation.
    public static func status(_ text: String) throws -> TenantRecord.Status {
        guard let status = TenantRecord.Status(rawValue: text), status == .active || status == .inactive else {
            throw PlatformError(.invalidStatus, "status '\(text)' cannot be set", hint: "Use active or inactive.")
        }
        return status
    }

    /// The change with its name trimmed, after checking every field: nothing is written
    /// unless all of it is valid.
    ///
    /// - Throws: ``PlatformError`` `.invalidName`, `.invalidSlug` or `.invalidStatus`.
    func validated() throws -> TenantChange {
        TenantChange(name: try name.map { try DisplayName.normalized($0, of: "tenant") },
                     slug: try slug.map { try TenantNames.validate(slug: $0); return $0 },
                     status: try status.map { try Self.status($0.rawValue) })
    }

    /// The change without the fields that already hold: a rename to the same name, or a
    /// resume of an active tenant, changes (and audits) nothing.
    func dropping(unchangedFrom record: TenantRecord) -> TenantChange {
        TenantChange(name: name == record.name ? nil : name, slug: slug == record.slug ? nil : slug,
                     status: status == record.status ? nil : status)
    }

    /// What the audit row records: each field set, with its value before.
    func auditDetails(before record: TenantRecord) -> [String: String] {
        var details: [String: String] = [:]
        if let name { (details["name"], details["old_name"]) = (name, record.name) }
        if let slug { (details["slug"], details["old_slug"]) = (slug, record.slug) }
        if let status { (details["status"], details["old_status"]) = (status.rawValue, record.status.rawValue) }
        return details
    }

    /// The audit action: a change of status alone keeps the names suspend and resume have.
    var auditAction: String {
        guard name == nil, slug == nil, let status else { return "tenant.update" }
        return status == .inactive ? "tenant.suspend" : "tenant.resume"
    }
}
