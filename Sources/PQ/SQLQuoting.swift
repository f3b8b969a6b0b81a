/// `"name"`, with inner quotes doubled: an identifier that is safe in any SQL text.
public func quoteIdentifier(_ name: String) -> String {
    "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

/// `'text'`, with inner quotes doubled, for the few statements (utility commands such as
/// `CREATE ROLE ... PASSWORD`) that take no parameters.
public func quoteLiteral(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
}
