import Foundation

/// What a check needs of one member, as read from the database: the row of
/// `auth.effective_access`, or the fact that there is none (no live membership: every code is
/// denied).
struct CachedMembership: Sendable {
    var isOwner: Bool
    /// `permission_nos`, sorted.
    var permissionNos: [Int32]

    static let none = CachedMembership(isOwner: false, permissionNos: [])
}

/// A member of a tenant: the key of a cached membership.
struct MemberKey: Sendable, Equatable {
    let tenant: TenantID
    let user: UserID

    /// Both ids as four words: compared as four integers, and hashed without a byte loop.
    var words: (UInt64, UInt64, UInt64, UInt64) {
        let tenant = Self.words(tenant.rawValue), user = Self.words(user.rawValue)
        return (tenant.0, tenant.1, user.0, user.1)
    }

    /// An id's 16 bytes as two words.
    static func words(_ id: UUID) -> (UInt64, UInt64) {
        withUnsafeBytes(of: id.uuid) { ($0.loadUnaligned(as: UInt64.self), $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) }
    }
}

/// The cached memberships of one shard, at most `capacity` of them; when full, one not used
/// lately is evicted (CLOCK, the usual approximation of least recently used).
///
/// Laid out for the hit path, which is bound by memory reads (a service checks many members at
/// random): an open-addressing index of 4-byte entry numbers, the entries in one dense array
/// (key, a filter of the numbers held, where the numbers are), and every entry's sorted
/// permission numbers in one shared array. A hit reads one line of the index, one entry, and
/// the entry's numbers only when the filter cannot rule the code out; it takes no reference
/// count (nothing per member is an object) and allocates nothing. The key's hash is given by
/// the caller (``CacheShards/hash(_:)``, seeded per cache), which also picks the shard from it.
///
/// A hit only sets its entry's "used" flag. An eviction sweeps a hand over the entries,
/// clearing flags, and takes the first entry not used since the hand last passed it; a new
/// entry starts unused, so one filled and never read again goes before one read since.
struct MembershipStore {
    struct Entry {
        let key: (UInt64, UInt64, UInt64, UInt64)
        /// Bit `n % 128` is set for each number `n` the entry holds: most numbers a check asks
        /// about are not held, and the mask rules them out without reading ``numbers``.
        let filter: (UInt64, UInt64)
        /// The hash's upper half: where the index looks first.
        let home: UInt32
        /// Where the entry's sorted numbers are in ``numbers``.
        var start: Int32
        let count: Int32
        let isOwner: Bool
        var used = false
    }

    let capacity: Int
    private var entries: [Entry] = []
    private var index = SlotIndex(roomFor: 0)
    /// Every entry's numbers; a replaced or removed entry leaves a gap, reclaimed when gaps
    /// outweigh what is in use.
    private(set) var numbers: [Int32] = []
    private var numbersInUse = 0
    private var hand = 0
    private(set) var evictions = 0

    var count: Int { entries.count }

    /// The bytes the store's arrays hold, by capacity (not counting the allocator's overhead).
    var bytes: Int {
        entries.capacity * MemoryLayout<Entry>.stride + index.bytes + numbers.capacity * MemoryLayout<Int32>.stride
    }

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// The member's entry, marked as used; nil when the member is not cached.
    @inline(__always)
    mutating func use(_ key: MemberKey, hash: UInt64) -> Int? {
        guard let (_, entry) = find(key.words, home: Self.home(hash)) else { return nil }
        if !entries[entry].used { entries[entry].used = true }  // no store when already set: the line stays clean
        return entry
    }

    /// Whether the entry is a tenant owner's (who holds every code).
    @inline(__always)
    func isOwner(_ entry: Int) -> Bool { entries[entry].isOwner }

    /// Whether the entry holds `number`.
    @inline(__always)
    func holds(_ entry: Int, _ number: Int32) -> Bool {
        let filter = entries[entry].filter, bit = Self.filterBit(number)
        guard filter.0 & bit.0 | filter.1 & bit.1 != 0 else { return false }
        let start = Int(entries[entry].start)
        return numbers.binarySearch(number, in: start..<(start + Int(entries[entry].count)))
    }

    /// Stores the member's membership, replacing what was held. Not stored (the next check
    /// fills again) when the numbers would overflow the 32-bit positions.
    mutating func set(_ key: MemberKey, hash: UInt64, _ membership: CachedMembership) {
        let words = key.words, home = Self.home(hash)
        if find(words, home: home) != nil { remove(words, home: home) }
        guard numbers.count + membership.permissionNos.count < Int(Int32.max) else { return }
        if entries.count >= capacity { evictOne() }
        if entries.count == index.capacity { resizeIndex() }
        let start = Int32(numbers.count)
        numbers += membership.permissionNos
        numbersInUse += membership.permissionNos.count
        index.insert(entries.count, home: home)
        var filter: (UInt64, UInt64) = (0, 0)
        for number in membership.permissionNos {
            let bit = Self.filterBit(number)
            filter = (filter.0 | bit.0, filter.1 | bit.1)
        }
        entries.append(Entry(key: words, filter: filter, home: home, start: start,
                             count: Int32(membership.permissionNos.count), isOwner: membership.isOwner))
    }

    /// Drops one member's entry; true if there was one.
    @discardableResult
    mutating func remove(_ key: MemberKey, hash: UInt64) -> Bool {
        remove(key.words, home: Self.home(hash))
    }

    /// Drops every entry of the tenant; returns how many there were. A scan: change events
    /// name a whole tenant only for statements that changed over 20 of its members.
    @discardableResult
    mutating func remove(tenant: TenantID) -> Int {
        let tenantWords = MemberKey.words(tenant.rawValue)
        var dropped = 0, position = 0
        while position < entries.count {
            if entries[position].key.0 == tenantWords.0 && entries[position].key.1 == tenantWords.1 {
                remove(entries[position].key, home: entries[position].home)  // moves the last entry here
                dropped += 1
            } else {
                position += 1
            }
        }
        return dropped
    }

    /// Drops everything; returns how many entries there were.
    @discardableResult
    mutating func removeAll() -> Int {
        let dropped = count, evicted = evictions
        self = MembershipStore(capacity: capacity)
        evictions = evicted
        return dropped
    }

    /// The bit of ``Entry/filter`` that stands for `number`: bit `number % 128`.
    @inline(__always)
    private static func filterBit(_ number: Int32) -> (UInt64, UInt64) {
        let bit = UInt64(truncatingIfNeeded: number) & 127
        return (bit < 64 ? 1 &<< bit : 0, bit < 64 ? 0 : 1 &<< (bit &- 64))
    }

    // MARK: - Index

    private static func home(_ hash: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: hash >> 32) }

    /// The index position and entry number of the key.
    @inline(__always)
    private func find(_ words: (UInt64, UInt64, UInt64, UInt64), home: UInt32) -> (position: Int, entry: Int)? {
        index.find(home: home) { entry in
            let key = entries[entry].key
            return key.0 == words.0 && key.1 == words.1 && key.2 == words.2 && key.3 == words.3
        }
    }

    @discardableResult
    private mutating func remove(_ words: (UInt64, UInt64, UInt64, UInt64), home: UInt32) -> Bool {
        guard let (position, entry) = find(words, home: home) else { return false }
        numbersInUse -= Int(entries[entry].count)
        index.vacate(position) { entries[$0].home }
        // The last entry takes the removed one's place, so entries stay dense.
        let last = entries.count - 1
        if entry != last {
            let moved = entries[last]
            index.renumber(find(moved.key, home: moved.home)!.position, to: entry)
            entries[entry] = moved
        }
        entries.removeLast()
        if entries.isEmpty {
            numbers.removeAll(keepingCapacity: true)
        } else if numbers.count > 1_024 && numbers.count > 2 * numbersInUse {
            compactNumbers()
        }
        return true
    }

    /// Doubles the index, placing every entry again.
    private mutating func resizeIndex() {
        index = SlotIndex(roomFor: index.capacity * 2)
        for (number, entry) in entries.enumerated() { index.insert(number, home: entry.home) }
    }

    /// Copies the numbers still in use to a new array without gaps.
    private mutating func compactNumbers() {
        var compacted: [Int32] = []
        compacted.reserveCapacity(numbersInUse)
        for position in entries.indices {
            let start = Int(entries[position].start)
            entries[position].start = Int32(compacted.count)
            compacted += numbers[start..<(start + Int(entries[position].count))]
        }
        numbers = compacted
    }

    /// Sweeps the hand to the first entry not used since its last pass, clearing flags on the
    /// way, and drops it (the last entry moves to its place, so the hand stays to look at it).
    private mutating func evictOne() {
        while true {
            if hand >= entries.count { hand = 0 }
            if entries[hand].used {
                entries[hand].used = false
                hand += 1
            } else {
                remove(entries[hand].key, home: entries[hand].home)
                evictions += 1
                return
            }
        }
    }

}
