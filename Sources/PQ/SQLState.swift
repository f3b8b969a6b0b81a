/// A five-character SQLSTATE code, as PostgreSQL reports it.
///
/// Codes are values, not an enum, so new codes never break callers; the common ones are
/// named below (`SQLState.uniqueViolation`). Compare with `==`, or test the class with
/// ``errorClass``.
public struct SQLState: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The raw code, for example `"23505"`.
    public let rawValue: String

    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    /// The first two characters: the class (`"23"` for integrity constraint violations).
    public var errorClass: String { String(rawValue.prefix(2)) }
    public var description: String { rawValue }

    public static let successfulCompletion: SQLState = "00000"
    public static let connectionException: SQLState = "08000"
    public static let featureNotSupported: SQLState = "0A000"
    public static let invalidTextRepresentation: SQLState = "22P02"
    public static let characterNotInRepertoire: SQLState = "22021"
    public static let nullValueNotAllowed: SQLState = "22004"
    public static let raiseException: SQLState = "P0001"
    public static let notNullViolation: SQLState = "23502"
    public static let foreignKeyViolation: SQLState = "23503"
    public static let uniqueViolation: SQLState = "23505"
    public static let checkViolation: SQLState = "23514"
    public static let invalidTransactionState: SQLState = "25000"
    public static let readOnlySQLTransaction: SQLState = "25006"
    public static let inFailedSQLTransaction: SQLState = "25P02"
    public static let invalidAuthorizationSpecification: SQLState = "28000"
    public static let invalidPassword: SQLState = "28P01"
    public static let serializationFailure: SQLState = "40001"
    public static let deadlockDetected: SQLState = "40P01"
    public static let syntaxError: SQLState = "42601"
    public static let insufficientPrivilege: SQLState = "42501"
    public static let undefinedColumn: SQLState = "42703"
    public static let undefinedFunction: SQLState = "42883"
    public static let undefinedTable: SQLState = "42P01"
    public static let duplicateObject: SQLState = "42710"
    public static let duplicateTable: SQLState = "42P07"
    public static let duplicateDatabase: SQLState = "42P04"
    public static let invalidCatalogName: SQLState = "3D000"
    public static let queryCanceled: SQLState = "57014"
    public static let adminShutdown: SQLState = "57P01"
    public static let lockNotAvailable: SQLState = "55P03"
    public static let objectInUse: SQLState = "55006"
}
