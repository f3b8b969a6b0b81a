import PQ

/// One change made by `auth.apply_permission_catalogue`.
public struct CatalogueChange: Sendable, Hashable, CustomStringConvertible {
    public enum Action: String, Sendable, Hashable, PostgresDecodable {
        case createPermission = "permission.create"
        case updatePermission = "permission.update"
        case deletePermission = "permission.delete"
        case createPermSet = "perm_set.create"
        case updatePermSet = "perm_set.update"
        case deletePermSet = "perm_set.delete"
        case addPermSetPermission = "perm_set.add_permission"
        case removePermSetPermission = "perm_set.remove_permission"
    }

    public let action: Action
    /// The template set concerned, for `perm_set.*` actions.
    public let permSetCode: String?
    /// The code concerned, for `permission.*` and a set's added or removed code.
    public let permCode: String?
    /// A created item's name, what an update changed (`name 'A' -> 'B'`), or nil.
    public let detail: String?

    /// One line, e.g. `perm_set.add_permission ADMIN users`.
    public var description: String {
        [action.rawValue, permSetCode, permCode, detail.map { "(\($0))" }].compactMap { $0 }.joined(separator: " ")
    }

    init(row: Row) throws {
        action = try row.decode(column: "action")
        permSetCode = try row.decode(column: "perm_set_code")
        permCode = try row.decode(column: "perm_code")
        detail = try row.decode(column: "detail")
    }
}
