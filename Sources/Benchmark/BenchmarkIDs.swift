/// Deterministic uuids for generated rows, so pgbench scripts and the Swift loop can derive
/// ids from random integers without a lookup: `00000000-0000-0000-KKKK-NNNNNNNNNNNN`
/// (kind, then the decimal number, which is valid hex).
enum BenchmarkIDs {
    static let user = 1
    static let tenant = 2
    static let group = 3

    /// The SQL expression of the uuid of `kind` number `number` (an SQL expression itself).
    static func sql(_ kind: Int, _ number: String) -> String {
        "('00000000-0000-0000-\(pad(kind, 4))-' || lpad((\(number))::text, 12, '0'))::uuid"
    }

    /// The uuid text of `kind` number `number`.
    static func text(_ kind: Int, _ number: Int) -> String {
        "00000000-0000-0000-\(pad(kind, 4))-\(pad(number, 12))"
    }

    /// The leaf permission code number `number` (0...999): `m5.s2.p3` for 523.
    static func leafCode(_ number: Int) -> String {
        "m\(number / 100).s\(number / 10 % 10).p\(number % 10)"
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }
}
