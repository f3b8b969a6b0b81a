import PQ

/// Enums of the schema's words (`direct_set`, `permission.create`) decode from their text.
extension RawRepresentable where RawValue == String, Self: PostgresDecodable {
    public init(postgresText text: String, type: PostgresType) throws {
        guard let value = Self(rawValue: text) else {
            throw PostgresError(kind: .decoding, message: "unexpected \(Self.self) '\(text)'")
        }
        self = value
    }
}
