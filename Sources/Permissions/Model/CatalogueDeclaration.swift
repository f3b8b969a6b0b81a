/// What `auth.apply_permission_catalogue` makes the catalogue and the template sets match,
/// encoded as its JSON declaration.
///
/// ```swift
/// let declaration = CatalogueDeclaration(
///     permissions: [.init(code: "invoices.view", name: "View invoices")],
///     permSets: [.init(code: "ACCOUNTANT", name: "Accountant", permissions: ["invoices"])])
/// let changes = try await auth.applyPermissionCatalogue(declaration)
/// ```
/// A declared code or set gets exactly the declared name and description (`nil`: none), and a
/// declared set exactly the declared codes. Nothing else is touched but what `remove` lists.
public struct CatalogueDeclaration: Codable, Sendable, Hashable {
    public struct Permission: Codable, Sendable, Hashable {
        public var code: String
        public var name: String
        public var description: String?

        public init(code: String, name: String, description: String? = nil) {
            self.code = code
            self.name = name
            self.description = description
        }
    }

    /// A template permission set: copied into every tenant created afterwards.
    public struct PermSet: Codable, Sendable, Hashable {
        public var code: String
        public var name: String
        public var description: String?
        public var permissions: [String]

        public init(code: String, name: String, description: String? = nil, permissions: [String]) {
            self.code = code
            self.name = name
            self.description = description
            self.permissions = permissions
        }
    }

    /// What to delete: codes (with their descendants) and template sets.
    public struct Removals: Codable, Sendable, Hashable {
        public var permissions: [String]
        public var permSets: [String]

        public init(permissions: [String] = [], permSets: [String] = []) {
            self.permissions = permissions
            self.permSets = permSets
        }

        enum CodingKeys: String, CodingKey {
            case permissions
            case permSets = "perm_sets"
        }
    }

    public var permissions: [Permission]
    public var permSets: [PermSet]
    public var remove: Removals?

    public init(permissions: [Permission] = [], permSets: [PermSet] = [], remove: Removals? = nil) {
        self.permissions = permissions
        self.permSets = permSets
        self.remove = remove
    }

    enum CodingKeys: String, CodingKey {
        case permissions
        case permSets = "perm_sets"
        case remove
    }
}
