import Foundation
import PackagePlugin

/// Generates a Swift file holding a folder of the package, so the binary carries it and
/// works from any directory, installed or not: `sql/` for Permissions (the schema
/// installer), `web/` for AdminPortal (the OpenAPI documents and the admin page it serves).
@main
struct EmbedFiles: BuildToolPlugin {
    /// Target → (folder, generated enum, file extensions).
    private static let folders: [String: (folder: String, enumName: String, extensions: [String])] = [
        "Permissions": ("sql", "EmbeddedSQL", ["sql"]),
        "AdminPortal": ("web", "EmbeddedWeb", ["json", "html", "css", "js", "svg"]),
    ]

    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        guard let embedded = Self.folders[target.name] else { return [] }
        let directory = context.package.directoryURL.appending(path: embedded.folder)
        let output = context.pluginWorkDirectoryURL.appending(path: "\(embedded.enumName).swift")
        return [
            .buildCommand(
                displayName: "Embedding \(embedded.folder)/ into \(target.name)",
                executable: try context.tool(named: "EmbedFilesTool").url,
                arguments: [directory.path(), output.path(), embedded.enumName, embedded.extensions.joined(separator: ",")],
                inputFiles: try files(under: directory, extensions: embedded.extensions),
                outputFiles: [output]
            )
        ]
    }

    private func files(under directory: URL, extensions: [String]) throws -> [URL] {
        guard let walker = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil) else {
            return []
        }
        return walker.compactMap { $0 as? URL }.filter { extensions.contains($0.pathExtension) }
    }
}
