/// Finds where statements start in a SQL script, so an error from the server can be
/// reported as `file:line`. It understands what the server's own lexer does for statement
/// boundaries: quotes, dollar quotes, and both comment styles.
enum SQLStatementLocator {
    /// The 1-based line on which each non-empty statement of `script` begins.
    static func statementLines(in script: String) -> [Int] {
        let chars = Array(script.unicodeScalars)
        var lines: [Int] = []
        var line = 1
        var statementStart: Int?  // line of the first significant character of this statement
        var i = 0

        func advance(_ count: Int = 1) {
            for _ in 0..<count where i < chars.count {
                if chars[i] == "\n" { line += 1 }
                i += 1
            }
        }
        func starts(_ text: String, at index: Int) -> Bool {
            let scalars = Array(text.unicodeScalars)
            guard index + scalars.count <= chars.count else { return false }
            return Array(chars[index..<index + scalars.count]) == scalars
        }
        func markStart() { if statementStart == nil { statementStart = line } }

        while i < chars.count {
            let c = chars[i]
            if starts("--", at: i) {
                while i < chars.count, chars[i] != "\n" { advance() }
            } else if starts("/*", at: i) {
                var depth = 0
                repeat {
                    if starts("/*", at: i) { depth += 1; advance(2) }
                    else if starts("*/", at: i) { depth -= 1; advance(2) }
                    else { advance() }
                } while depth > 0 && i < chars.count
            } else if c == "'" || c == "\"" {
                markStart()
                advance()
                while i < chars.count {
                    if chars[i] == c {
                        if i + 1 < chars.count, chars[i + 1] == c { advance(2); continue }
                        advance()
                        break
                    }
                    // E'...' strings may escape a quote with a backslash.
                    if c == "'", chars[i] == "\\", i + 1 < chars.count { advance(2); continue }
                    advance()
                }
            } else if c == "$", let tag = dollarTag(chars, at: i) {
                markStart()
                advance(tag.count)
                while i < chars.count, !starts(tag, at: i) { advance() }
                advance(tag.count)
            } else if c == ";" {
                if let start = statementStart { lines.append(start) }
                statementStart = nil
                advance()
            } else {
                if !c.properties.isWhitespace { markStart() }
                advance()
            }
        }
        if let start = statementStart { lines.append(start) }
        return lines
    }

    /// The 1-based line of the 1-based character `position` in `script`.
    static func line(ofPosition position: Int, in script: String) -> Int {
        1 + script.unicodeScalars.prefix(max(0, position - 1)).filter { $0 == "\n" }.count
    }

    /// `$tag$` or `$$` starting at `index`, if one does.
    private static func dollarTag(_ chars: [Unicode.Scalar], at index: Int) -> String? {
        if index > 0, chars[index - 1].properties.isAlphabetic || chars[index - 1] == "_" { return nil }
        var j = index + 1
        while j < chars.count, chars[j].properties.isAlphabetic || chars[j] == "_" || ("0"..."9").contains(chars[j]) {
            if j == index + 1, ("0"..."9").contains(chars[j]) { return nil }  // $1 is a parameter
            j += 1
        }
        guard j < chars.count, chars[j] == "$" else { return nil }
        return String(String.UnicodeScalarView(chars[index...j]))
    }
}
