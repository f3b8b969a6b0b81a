/// How a tenant's slug maps to its database and role names.
public struct TenantNames: Sendable, Equatable {
    public let databaseName: String
    /// The tenant's own login role: it may connect to its database and nothing else.
    public let roleName: String

    /// `<prefix>_<slug>`, with `-` turned into `_` (slugs have no `_`, so names never clash),
    /// and `_<suffix>` when given: the names of a tenant that takes a slug another tenant was
    /// renamed away from, whose database and role keep the plain names.
    public init(slug: String, prefix: String, suffix: String? = nil) {
        databaseName = prefix + "_" + slug.replacingOccurrences(of: "-", with: "_") + (suffix.map { "_" + $0 } ?? "")
        roleName = databaseName
    }

    /// The template database that new tenant databases are cloned from.
    public static func templateDatabase(prefix: String) -> String { prefix + "_template" }

    /// Slugs appear in URLs (`/t/{slug}/`): 2 to 40 lower-case letters, digits and inner hyphens.
    public static func validate(slug: String) throws {
        guard slug.wholeMatch(of: /[a-z0-9][a-z0-9-]{0,38}[a-z0-9]/) != nil, !slug.contains("--") else {
            throw PlatformError(.invalidSlug, "invalid slug '\(slug)'",
                                hint: "Use 2 to 40 lower-case letters, digits and single hyphens, e.g. acme or acme-eu; it appears in URLs.")
        }
        guard slug != "template" else {
            throw PlatformError(.invalidSlug, "the slug 'template' is reserved", hint: "Pick another slug.")
        }
    }
}
