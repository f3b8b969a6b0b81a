// Writes a Swift file holding every `.sql` file below a folder, keyed by relative path.
// Usage: EmbedSQLTool <sql folder> <output.swift>
// Contents are base64 so no SQL text can ever break the Swift literal.
import Foundation

let arguments = CommandLine.arguments
guard arguments.count == 3 else {
    FileHandle.standardError.write(Data("usage: EmbedSQLTool <sql folder> <output.swift>\n".utf8))
    exit(2)
}
let root = URL(fileURLWithPath: arguments[1]).standardizedFileURL
let output = URL(fileURLWithPath: arguments[2])

var entries: [(path: String, base64: String)] = []
if let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) {
    for case let url as URL in walker where url.pathExtension == "sql" {
        let full = url.standardizedFileURL.path
        let relative = String(full.dropFirst(root.path.count + 1))
        entries.append((relative, try Data(contentsOf: url).base64EncodedString()))
    }
}
entries.sort { $0.path < $1.path }

var source = """
    // Generated at build time by the EmbedSQL plugin from sql/. Do not edit.
    import Foundation

    enum EmbeddedSQL {
        /// Every file under sql/, keyed by its path relative to sql/.
        static let files: [String: String] = {
            var files: [String: String] = [:]

    """
for entry in entries {
    source += "        files[\"\(entry.path)\"] = String(decoding: Data(base64Encoded: \"\(entry.base64)\")!, as: UTF8.self)\n"
}
source += """
            return files
        }()
    }

    """
try source.write(to: output, atomically: true, encoding: .utf8)
