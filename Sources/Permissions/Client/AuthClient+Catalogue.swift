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
}
