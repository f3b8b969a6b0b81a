/// Parses one-dimensional array literals in PostgreSQL's text output format.
enum PostgresArrayLiteral {
    /// `{a,"b,c",NULL}` → `["a", "b,c", nil]`; `nil` when the text is not such a literal.
    static func parse(_ text: String) -> [String?]? {
        var chars = Substring(text)
        guard chars.first == "{", chars.last == "}" else { return nil }
        chars = chars.dropFirst().dropLast()
        if chars.isEmpty { return [] }

        var items: [String?] = []
        var current = ""
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
                items.append(wasQuoted || current != "NULL" ? current : nil)
                current = ""
                wasQuoted = false
            } else if char == "{" && !quoted {
                return nil  // multi-dimensional arrays are not supported
            } else {
                current.append(char)
            }
        }
        guard !quoted, !escaping else { return nil }
        items.append(wasQuoted || current != "NULL" ? current : nil)
        return items
    }
}
