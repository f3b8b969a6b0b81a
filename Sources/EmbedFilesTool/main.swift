// Writes a Swift file holding every file with one of the given extensions below a folder,
// keyed by relative path, as an enum with a `files` dictionary.
// Usage: EmbedFilesTool <folder> <output.swift> <enum name> <extension,extension,...>
// Contents are base64 so no file's text can ever break the Swift literal.
import Foundation

let arguments = CommandLine.arguments
guard arguments.count == 5 else {
    FileHandle.standardError.write(Data("usage: EmbedFilesTool <folder> <output.swift> <enum name> <extensions>\n".utf8))
    exit(2)
}
let root = URL(fileURLWithPath: arguments[1]).standardizedFileURL
let output = URL(fileURLWithPath: arguments[2])
let enumName = arguments[3]
let extensions = Set(arguments[4].split(separator: ",").map(String.init))

var entries: [(path: String, base64: String)] = []
if let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) {
    for case let url as URL in walker where extensions.contains(url.pathExtension) {
        let full = url.standardizedFileURL.path
        let relative = String(full.dropFirst(root.path.count + 1))
        entries.append((relative, try Data(contentsOf: url).base64EncodedString()))
    }
}
entries.sort { $0.path < $1.path }

var source = """
    // Generated at build time by the EmbedFiles plugin from \(root.lastPathComponent)/. Do not edit.
    import Foundation

    enum \(enumName) {
        /// Every file under \(root.lastPathComponent)/, keyed by its path relative to it.
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
