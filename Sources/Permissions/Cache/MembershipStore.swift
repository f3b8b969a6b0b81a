import Foundation

/// What a check needs of one member: the row of `auth.effective_access`, or the fact that
/// there is none (no live membership: every code is denied).
struct CachedMembership: Sendable {
    var isOwner: Bool
    /// `permission_nos`, sorted.
    var permissionNos: [Int32]

    static let none = CachedMembership(isOwner: false, permissionNos: [])
}

/// A member of a tenant: the key of a cached membership.
struct MemberKey: Hashable, Sendable {
    let tenant: TenantID
    let user: UserID

    /// All 32 bytes, as four words (cheaper for the hasher than two byte buffers).
    func hash(into hasher: inout Hasher) {
        withUnsafeBytes(of: tenant.rawValue.uuid) { bytes in
            hasher.combine(bytes.loadUnaligned(as: UInt64.self))
            hasher.combine(bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        }
        withUnsafeBytes(of: user.rawValue.uuid) { bytes in
            hasher.combine(bytes.loadUnaligned(as: UInt64.self))
            hasher.combine(bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        }
    }
}

/// The cached memberships, at most `capacity` of them; when full, one not used lately is
/// evicted (the CLOCK approximation of least recently used).
///
/// A hit only sets its entry's "used" flag, so reading stays cheap: no list is relinked and
/// nothing is allocated. An eviction sweeps a hand over the entries, clearing flags, and takes
/// the first entry not used since the hand last passed it. A new entry starts unused, so one
/// filled and never read again goes before one read since. Entries are also indexed by tenant,
/// so a change event naming a whole tenant drops its entries without a scan.
struct MembershipStore {
    let capacity: Int
    private var slots: [MemberKey: Int32] = [:]
    private var byTenant: [TenantID: Set<Int32>] = [:]
    private var keys: [MemberKey?] = []
    /// The entries by slot (a hit reads its slot in place, without a copy).
    private(set) var values: [CachedMembership] = []
    private var used: [Bool] = []
    private var free: [Int32] = []
    private var hand = 0
    private(set) var count = 0
    private(set) var evictions = 0

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// The slot of the member's entry, marked as used; nil when the member is not cached.
    mutating func use(_ key: MemberKey) -> Int32? {
        guard let slot = slots[key] else { return nil }
        if !used[Int(slot)] { used[Int(slot)] = true }  // no store when already set: the line stays clean
        return slot
    }

    mutating func set(_ key: MemberKey, _ membership: CachedMembership) {
        if let slot = slots[key] {
            values[Int(slot)] = membership
            return
        }
        if count >= capacity { evictOne() }
        let slot: Int32
        if let reused = free.popLast() {
            slot = reused
            keys[Int(slot)] = key
            values[Int(slot)] = membership
            used[Int(slot)] = false
        } else {
            slot = Int32(keys.count)
            keys.append(key)
            values.append(membership)
            used.append(false)
        }
        slots[key] = slot
        byTenant[key.tenant, default: []].insert(slot)
        count += 1
    }

    /// Drops one member's entry; true if there was one.
    @discardableResult
    mutating func remove(_ key: MemberKey) -> Bool {
        guard let slot = slots.removeValue(forKey: key) else { return false }
        byTenant[key.tenant]?.remove(slot)
        if byTenant[key.tenant]?.isEmpty == true { byTenant[key.tenant] = nil }
        release(slot)
        return true
    }

    /// Drops every entry of the tenant; returns how many there were.
    @discardableResult
    mutating func remove(tenant: TenantID) -> Int {
        guard let tenantSlots = byTenant.removeValue(forKey: tenant) else { return 0 }
        for slot in tenantSlots {
            if let key = keys[Int(slot)] { slots[key] = nil }
            release(slot)
        }
        return tenantSlots.count
    }

    /// Drops everything; returns how many entries there were.
    @discardableResult
    mutating func removeAll() -> Int {
        let dropped = count, evicted = evictions
        self = MembershipStore(capacity: capacity)
        evictions = evicted
        return dropped
    }

    /// Sweeps the hand to the first entry not used since its last pass, clearing flags on the
    /// way, and drops it. Called only when full, so every slot holds an entry.
    private mutating func evictOne() {
        while true {
            if hand >= keys.count { hand = 0 }
            let index = hand
            hand += 1
            guard let key = keys[index] else { continue }
            if used[index] {
                used[index] = false
            } else {
                remove(key)
                evictions += 1
                return
            }
        }
    }

    private mutating func release(_ slot: Int32) {
        keys[Int(slot)] = nil
        values[Int(slot)] = .none  // frees the array of numbers now
        used[Int(slot)] = false
        free.append(slot)
        count -= 1
    }
}
