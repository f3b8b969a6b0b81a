import Foundation

/// The size of the generated data set.
///
/// Every tenant has `users / tenants` users, 10 groups and 10 permission sets; every user
/// belongs to 2 groups of their tenant; the catalogue has 1,110 codes (10 modules × 10
/// sections × 10 leaves, depth 3). Groups get 2 sets each, every 4th user one direct
/// permission, so about 9 in 10 random checks are denied.
public struct BenchmarkScale: Sendable, CustomStringConvertible {
    public let users: Int
    public let tenants: Int

    public init(users: Int, tenants: Int) {
        self.users = users
        self.tenants = tenants
    }

    public var usersPerTenant: Int { users / tenants }

    /// Members of the extra tenant used to time writes.
    public static let writeTenantMembers = 10_000
    /// Users holding the set whose contents change in the write test.
    public static let writeSetUsers = 1_000

    public var description: String {
        "\(users.formatted()) users, \(tenants.formatted()) tenants"
    }
}

extension Int {
    /// `1,234,567`.
    func formatted() -> String {
        let digits = String(self.magnitude)
        var result = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { result += "," }
            result.append(digit)
        }
        return (self < 0 ? "-" : "") + result
    }
}

extension Duration {
    /// Seconds with two decimals: `12.34`.
    var secondsText: String {
        String(format: "%.2f", Double(components.seconds) + Double(components.attoseconds) / 1e18)
    }

    /// Microseconds, for latency samples.
    var microseconds: Double {
        Double(components.seconds) * 1e6 + Double(components.attoseconds) / 1e12
    }
}
