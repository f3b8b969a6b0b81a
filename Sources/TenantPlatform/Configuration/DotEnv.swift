import Foundation

/// Reads `.env` files: `KEY=value` lines, `#` comments, optional `export `, and values in
/// single quotes (taken literally) or double quotes (with `\n`, `\"` and `\\` escapes).
public enum DotEnv {
    /// The variables of the file at `url`; an empty dictionary when it does not exist.
    public static func load(_ url: URL) throws -> [String: String] {
        guard FileManager.default.fileExists(atPath: url.path) else { return [:] }
        return try parse(String(contentsOf: url, encoding: .utf8), source: url.path)
    }

    /// Parses `.env` text. Throws ``PlatformError`` `.invalidSetting` naming the line of
    /// anything it cannot read, rather than skipping it silently.
    public static func parse(_ text: String, source: String = ".env") throws -> [String: String] {
        var result: [String: String] = [:]
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.hasSuffix("\r") { line.removeLast() }
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
            guard let equals = line.firstIndex(of: "="),
                  case let key = line[..<equals].trimmingCharacters(in: .whitespaces),
                  key.wholeMatch(of: /[A-Za-z_][A-Za-z0-9_]*/) != nil else {
                throw PlatformError.invalidSetting("\(source):\(index + 1)", reason: "not a KEY=value line",
                                                   hint: "Write e.g. MASTER_DB_PORT=5432.")
            }
            result[key] = try value(String(line[line.index(after: equals)...]).trimmingCharacters(in: .whitespaces),
                                    at: "\(source):\(index + 1)")
        }
        return result
    }

    private static func value(_ raw: String, at location: String) throws -> String {
        guard let quote = raw.first, quote == "\"" || quote == "'" else {
            // Unquoted: an inline comment starts at " #".
            return raw.components(separatedBy: " #")[0].trimmingCharacters(in: .whitespaces)
        }
        guard raw.count >= 2, raw.last == quote else {
            throw PlatformError.invalidSetting(location, reason: "unterminated quote",
                                               hint: "Close the value with \(quote).")
        }
        let body = String(raw.dropFirst().dropLast())
        guard quote == "\"" else { return body }
        var result = "", escaping = false
        for character in body {
            if escaping {
                result.append(character == "n" ? "\n" : character)
                escaping = false
            } else if character == "\\" {
                escaping = true
            } else {
                result.append(character)
            }
        }
        return result
    }
}
