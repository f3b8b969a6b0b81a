import Foundation

/// Slugs recently found to name no tenant, remembered for `lifetime` (a tenant created in
/// the meantime is reachable after at most that long) and at most `capacity` of them (the
/// oldest go first), so memory stays bounded whatever slugs are requested.
actor UnknownTenantCache {
    private let lifetime: Duration
    private let capacity: Int
    private var expiries: [String: ContinuousClock.Instant] = [:]
    /// Insertion order, for evicting the oldest.
    private var order: [String] = []

    init(lifetime: Duration = .seconds(10), capacity: Int = 10_000) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    func contains(_ slug: String) -> Bool {
        guard let expiry = expiries[slug] else { return false }
        if expiry > .now { return true }
        expiries[slug] = nil
        return false
    }

    func insert(_ slug: String) {
        if expiries[slug] == nil { order.append(slug) }
        expiries[slug] = .now + lifetime
        while expiries.count > capacity || order.count > 2 * capacity, !order.isEmpty {
            expiries[order.removeFirst()] = nil
        }
    }

    /// Forgets a slug at once, e.g. when this process creates or renames a tenant to it.
    func remove(_ slug: String) {
        expiries[slug] = nil
    }
}
