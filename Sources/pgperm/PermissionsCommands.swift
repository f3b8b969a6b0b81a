import ArgumentParser
import Foundation
import Permissions
import PQ

struct PermissionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "permissions",
        abstract: "Manage the permission catalogue and the template permission sets of a database with the auth schema.",
        discussion: """
            Connects with --database-url like `pgperm install`. For a tenant of the platform, pass the \
            connection string that `pgperm tenant credentials SLUG` shows.
            """,
        subcommands: [Apply.self])

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make the catalogue and the template permission sets match a JSON declaration (auth.apply_permission_catalogue).",
            discussion: """
                Adds missing codes (with their ancestors) and template sets, sets declared names and \
                descriptions, gives each declared set exactly its declared codes, and deletes only what \
                "remove" lists, in one transaction. Prints one line per change; a second run prints \
                none. Existing tenants keep their copies of the template sets.

                The file (each code and set may also have a "description"):
                  {"permissions": [{"code": "invoices.view", "name": "View invoices"}],
                   "perm_sets": [{"code": "CLERK", "name": "Clerk",
                                  "permissions": ["invoices.view"]}],
                   "remove": {"permissions": ["legacy"], "perm_sets": ["OLD"]}}

                Example:
                  pgperm permissions apply permissions.json --dry-run
                """)

        @OptionGroup var connection: ConnectionOptions
        @Argument(help: ArgumentHelp("The declaration, a JSON file; - reads standard input.", valueName: "file"))
        var file: String
        @Flag(help: "Show what would change and change nothing: the transaction is rolled back.")
        var dryRun = false
        @Flag(help: "Also delete removed codes that tenants' sets or assignments use, taking them out of those sets and deleting those assignments.")
        var force = false

        func run() async throws {
            let json = try readDeclaration()
            let database = try await connection.connect()
            defer { Task { await database.close() } }
            // One transaction either way: committed, or rolled back for a dry run.
            try await database.query("BEGIN")
            let changes: [CatalogueChange]
            do {
                changes = try await AuthClient(database).applyPermissionCatalogue(json: json, force: force)
                try await database.query(dryRun ? "ROLLBACK" : "COMMIT")
            } catch {
                _ = try? await database.query("ROLLBACK")
                throw error
            }
            if changes.isEmpty {
                print("Nothing to change: the catalogue and the template sets match \(file).")
                return
            }
            print(dryRun ? "Dry run, nothing changed. Applying \(file) would make \(changes.count) change(s):"
                         : "Applied \(file): \(changes.count) change(s).")
            for change in changes { print("  \(change)") }
        }

        /// The file's text. Whether it is the declaration expected is checked where it is applied,
        /// which says where it is wrong.
        private func readDeclaration() throws -> String {
            let data: Data
            do {
                data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile()
                                   : try Data(contentsOf: URL(fileURLWithPath: file))
            } catch {
                throw ValidationError("cannot read \(file): \(error.localizedDescription)")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw ValidationError("\(file) is not UTF-8 text")
            }
            return text
        }
    }
}
