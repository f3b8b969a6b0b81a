import PQ

/// A code of the permission catalogue, as `auth.list_permissions` (the tree) and
/// `auth.list_perm_set_permissions` (a set's codes) list them.
public struct CatalogueEntry: Sendable, Hashable {
    /// Dotted code, e.g. `users.create_user`; the key of the lists' order.
    public let code: String
    public let name: String
    public let description: String?

    /// The code's parent, `nil` at the top (`users` for `users.create_user`).
    public var parentCode: String? {
        code.lastIndex(of: ".").map { String(code[..<$0]) }
    }

    /// 1 at the top of the tree.
    public var depth: Int { code.split(separator: ".").count }

    init(row: Row) throws {
        code = try row.decode(column: "perm_code")
        name = try row.decode(column: "name")
        description = try row.decode(column: "description")
    }
}
