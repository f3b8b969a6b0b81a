import Foundation

/// The size of the generated data set.
///
/// Every tenant has `users / tenants` users, 10 groups and 10 permission sets; every user
/// belongs to 2 groups of their tenant; the catalogue has 1,110 codes (10 modules × 10
/// sections × 10 leaves, depth 3). Groups get 2 sets each, every 4th user one direct
/// permission, so about 9 in 10 random checks are denied. Resource grants, if any, are spread
/// evenly over the users: user `n`'s `k`-th is on document `(31n + 101k) mod 10,000` of their
/// tenant, one leaf code, every 10th a deny.
public struct BenchmarkScale: Sendable, CustomStringConvertible {
    public let users: Int
    public let tenants: Int
    /// Rows of `auth.resource_grant`; 0 leaves the resource check out.
    public let resourceGrants: Int

    public init(users: Int, tenants: Int, resourceGrants: Int = 0) {
        self.users = users
        self.tenants = tenants
        self.resourceGrants = resourceGrants
    }

    public var usersPerTenant: Int { users / tenants }
    /// Resource grants per user (at most 100: the documents of a user's grants must differ).
    public var resourceGrantsPerUser: Int { resourceGrants / users }
    /// Documents per tenant that resource grants name.
    public static let documentsPerTenant = 10_000

    /// Members of the extra tenant used to time writes.
    public static let writeTenantMembers = 10_000
    /// Users holding the set whose contents change in the write test.
    public static let writeSetUsers = 1_000

    public var description: String {
        "\(users.formatted()) users, \(tenants.formatted()) tenants"
            + (resourceGrants > 0 ? ", \(resourceGrants.formatted()) resource grants" : "")
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
