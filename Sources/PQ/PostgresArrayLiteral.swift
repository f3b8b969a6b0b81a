/// Parses one-dimensional array literals in PostgreSQL's text output format.
enum PostgresArrayLiteral {
    /// `{a,"b,c",NULL}` → `["a", "b,c", nil]`; `nil` when the text is not such a literal.
    static func parse(_ text: String) -> [String?]? {
        // Unicode scalars, not Characters: a quote or backslash followed by a combining mark
        // is one Character, but the server quotes and escapes scalar by scalar.
        var chars = Substring(text).unicodeScalars
        guard chars.first == "{", chars.last == "}" else { return nil }
        chars = chars.dropFirst().dropLast()
        if chars.isEmpty { return [] }

        var items: [String?] = []
        var current = String.UnicodeScalarView()
        var quoted = false
        var wasQuoted = false
        var escaping = false
        for char in chars {
            if escaping {
                current.append(char)
                escaping = false
            } else if char == "\\" {
                escaping = true
            } else if char == "\"" {
                quoted.toggle()
                wasQuoted = true
            } else if char == "," && !quoted {
                items.append(item(current, wasQuoted: wasQuoted))
                current = String.UnicodeScalarView()
                wasQuoted = false
            } else if char == "{" && !quoted {
                return nil  // multi-dimensional arrays are not supported
            } else {
                current.append(char)
            }
        }
        guard !quoted, !escaping else { return nil }
        items.append(item(current, wasQuoted: wasQuoted))
        return items
    }

    /// An element: unquoted `NULL` is a NULL element, anything else is text.
    private static func item(_ scalars: String.UnicodeScalarView, wasQuoted: Bool) -> String? {
        let text = String(scalars)
        return wasQuoted || text != "NULL" ? text : nil
    }
}
