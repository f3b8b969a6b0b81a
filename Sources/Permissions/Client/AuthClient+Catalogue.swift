import Foundation
import PQ

extension AuthClient {
    /// Adds a code to the global permission catalogue, creating missing ancestors
    /// (`users.create_user` also creates `users`).
    ///
    /// - Parameters:
    ///   - code: lower-case dotted segments of letters, digits and `_`.
    /// - Returns: the permission's id.
    /// - Throws: `.invalidPermissionCode`, `.permissionExists`, `.invalidArgument`.
    public func createPermission(code: String, name: String, description: String? = nil) async throws -> PermissionID {
        try await value(PermissionID.self, "SELECT auth.create_permission(_code := $1, _name := $2, _description := $3)",
                        [code, name, description])
    }

    /// Deletes a code and its descendants from the catalogue (`auth.delete_permission`).
    ///
    /// - Parameters:
    ///   - code: the code to delete, with everything below it.
    ///   - force: also delete a code that is in use: it is taken out of every set (templates
    ///     included) and every direct assignment of it is deleted, so users lose those rights.
    ///     Default `false`: a code in use is refused.
    /// - Throws: `.unknownPermission`, `.invalidPermissionCode`, `.permissionInUse` (without
    ///   `force`) when a set or an assignment uses any of them; its `detail` lists the uses.
    public func deletePermission(code: String, force: Bool = false) async throws {
        try await call("SELECT auth.delete_permission(_code := $1, _force := $2)", [code, force])
    }

    /// A page of the catalogue as a tree, depth first: each code right before its descendants
    /// (`auth.list_permissions`).
    ///
    /// - Parameters:
    ///   - pageSize: 1 to 500. Default 50.
    ///   - after: the `code` of the last entry of the previous page; `nil` for the first.
    /// - Throws: `.invalidPage`.
    public func listPermissions(pageSize: Int = 50, after: String? = nil) async throws -> [CatalogueEntry] {
        try await call("""
            SELECT perm_code, name, description FROM auth.list_permissions(_page_size := $1, _after := $2)
            """, [pageSize, after]).map(CatalogueEntry.init(row:))
    }

    /// Makes the catalogue and the template permission sets match `declaration`, in one
    /// transaction (`auth.apply_permission_catalogue`). Run it at every start: a second run
    /// changes nothing and returns no change.
    ///
    /// - Parameters:
    ///   - force: also delete removed codes that tenants' sets or assignments use. Default `false`.
    /// - Returns: one ``CatalogueChange`` per change made.
    /// - Throws: `.invalidDeclaration`, `.invalidPermissionCode`, `.invalidCode`, `.invalidArgument`,
    ///   `.unknownPermission` for a set's code that is neither declared nor in the catalogue,
    ///   `.permissionInUse` (without `force`).
    @discardableResult
    public func applyPermissionCatalogue(_ declaration: CatalogueDeclaration, force: Bool = false) async throws -> [CatalogueChange] {
        let json = String(decoding: try JSONEncoder().encode(declaration), as: UTF8.self)
        return try await applyPermissionCatalogue(json: json, force: force)
    }

    /// ``applyPermissionCatalogue(_:force:)`` with the declaration as JSON text, e.g. read from a
    /// file; the server checks it.
    ///
    /// - Throws: `.invalidDeclaration` before anything is sent when `json` is not JSON; the
    ///   errors of ``applyPermissionCatalogue(_:force:)``.
    @discardableResult
    public func applyPermissionCatalogue(json: String, force: Bool = false) async throws -> [CatalogueChange] {
        // The server would refuse it in the cast to jsonb, with PostgreSQL's own 22P02.
        do {
            _ = try JSONSerialization.jsonObject(with: Data(json.utf8), options: .fragmentsAllowed)
        } catch {
            let reason = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
            throw PermissionsError(client: .invalidDeclaration, "invalid declaration", detail: "The declaration is not JSON: \(reason)",
                                   hint: "Pass a JSON object: {\"permissions\": [...], \"perm_sets\": [...], \"remove\": {...}}.")
        }
        return try await call("""
            SELECT action, perm_set_code, perm_code, detail
            FROM auth.apply_permission_catalogue(_declaration := $1::jsonb, _force := $2)
            """, [json, force]).map(CatalogueChange.init(row:))
    }
}
