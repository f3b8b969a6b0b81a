import Foundation
import PackagePlugin

/// Generates `EmbeddedSQL.swift` from every file under the package's `sql/` folder, so the
/// schema installer carries its SQL inside the binary and works from any directory.
@main
struct EmbedSQL: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let sqlDirectory = context.package.directoryURL.appending(path: "sql")
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedSQL.swift")
        return [
            .buildCommand(
                displayName: "Embedding sql/ into \(target.name)",
                executable: try context.tool(named: "EmbedSQLTool").url,
                arguments: [sqlDirectory.path(), output.path()],
                inputFiles: try sqlFiles(under: sqlDirectory),
                outputFiles: [output]
            )
        ]
    }

    private func sqlFiles(under directory: URL) throws -> [URL] {
        guard let walker = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil) else {
            return []
        }
        return walker.compactMap { $0 as? URL }.filter { $0.pathExtension == "sql" }
    }
}
