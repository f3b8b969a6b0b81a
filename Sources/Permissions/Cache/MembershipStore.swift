/// What a check needs of one member: the row of `auth.effective_access`, or the fact that
/// there is none (no live membership: every code is denied).
struct CachedMembership: Sendable {
    var isOwner: Bool
    /// `permission_nos`, sorted.
    var permissionNos: [Int32]

    static let none = CachedMembership(isOwner: false, permissionNos: [])

    /// Whether a code whose `ancestor_nos` (its own number last) are given is granted.
    func grants(_ ancestorNos: [Int32]) -> Bool {
        isOwner || ancestorNos.contains { permissionNos.binarySearch($0) }
    }
}

/// The cached memberships, at most `capacity` of them, the least recently used evicted first.
///
/// Entries live in arrays linked into a recency list by index, so a hit moves an entry to the
/// front with a few stores and no allocation. Found by tenant, then user, so a change event
/// naming a whole tenant drops that tenant's entries without a scan.
struct MembershipStore {
    let capacity: Int
    private var byTenant: [TenantID: [UserID: Int32]] = [:]
    private var keys: [(tenant: TenantID, user: UserID)] = []
    private var values: [CachedMembership] = []
    private var previous: [Int32] = []
    private var next: [Int32] = []
    private var free: [Int32] = []
    /// Most and least recently used slots (-1 when empty).
    private var head: Int32 = -1
    private var tail: Int32 = -1
    private(set) var count = 0
    private(set) var evictions = 0

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// The member's entry, marked as just used.
    mutating func get(tenant: TenantID, user: UserID) -> CachedMembership? {
        guard let slot = byTenant[tenant]?[user] else { return nil }
        if slot != head {
            unlink(slot)
            pushFront(slot)
        }
        return values[Int(slot)]
    }

    mutating func set(tenant: TenantID, user: UserID, _ membership: CachedMembership) {
        if let slot = byTenant[tenant]?[user] {
            values[Int(slot)] = membership
            unlink(slot)
            pushFront(slot)
            return
        }
        if count >= capacity, tail >= 0 {
            let (oldTenant, oldUser) = keys[Int(tail)]
            remove(tenant: oldTenant, user: oldUser)
            evictions += 1
        }
        let slot: Int32
        if let reused = free.popLast() {
            slot = reused
            keys[Int(slot)] = (tenant, user)
            values[Int(slot)] = membership
        } else {
            slot = Int32(keys.count)
            keys.append((tenant, user))
            values.append(membership)
            previous.append(-1)
            next.append(-1)
        }
        byTenant[tenant, default: [:]][user] = slot
        pushFront(slot)
        count += 1
    }

    /// Drops one member's entry; true if there was one.
    @discardableResult
    mutating func remove(tenant: TenantID, user: UserID) -> Bool {
        guard let slot = byTenant[tenant]?.removeValue(forKey: user) else { return false }
        if byTenant[tenant]?.isEmpty == true { byTenant[tenant] = nil }
        release(slot)
        return true
    }

    /// Drops every entry of the tenant; returns how many there were.
    @discardableResult
    mutating func remove(tenant: TenantID) -> Int {
        guard let users = byTenant.removeValue(forKey: tenant) else { return 0 }
        for slot in users.values { release(slot) }
        return users.count
    }

    /// Drops everything; returns how many entries there were.
    @discardableResult
    mutating func removeAll() -> Int {
        let dropped = count, evicted = evictions
        self = MembershipStore(capacity: capacity)
        evictions = evicted
        return dropped
    }

    private mutating func release(_ slot: Int32) {
        unlink(slot)
        values[Int(slot)] = .none  // frees the array of numbers now
        free.append(slot)
        count -= 1
    }

    private mutating func unlink(_ slot: Int32) {
        let before = previous[Int(slot)], after = next[Int(slot)]
        if before >= 0 { next[Int(before)] = after } else if head == slot { head = after }
        if after >= 0 { previous[Int(after)] = before } else if tail == slot { tail = before }
        previous[Int(slot)] = -1
        next[Int(slot)] = -1
    }

    private mutating func pushFront(_ slot: Int32) {
        previous[Int(slot)] = -1
        next[Int(slot)] = head
        if head >= 0 { previous[Int(head)] = slot }
        head = slot
        if tail < 0 { tail = slot }
    }
}

extension Array where Element == Int32 {
    /// Whether the sorted array holds `value`.
    func binarySearch(_ value: Int32) -> Bool {
        var low = 0, high = count
        while low < high {
            let middle = (low + high) / 2
            if self[middle] < value { low = middle + 1 } else { high = middle }
        }
        return low < count && self[low] == value
    }
}
