import Foundation
import Synchronization

/// One part of a ``PermissionCache``'s memory, behind a lock of its own: checks of members of
/// different shards never wait on each other, so checks scale across cores.
///
/// Each shard holds whether it may answer, the catalogue (shared with the other shards, not
/// copied), its members' entries and its counters: a hit takes this one lock and touches
/// nothing else.
final class CacheShard: Sendable {
    struct State: ~Copyable {
        var trusted = false
        /// The catalogue, when ``hasCatalogue`` (not an optional: a hit reads it in place).
        private(set) var catalogue = CompiledCatalogue([])
        private(set) var hasCatalogue = false
        var memberships: MembershipStore
        var hits = 0
        var misses = 0
        var invalidations = 0

        mutating func setCatalogue(_ new: CompiledCatalogue?) {
            catalogue = new ?? CompiledCatalogue([])
            hasCatalogue = new != nil
        }

        /// Forgets everything held.
        mutating func dropAll() {
            invalidations += memberships.removeAll()
            setCatalogue(nil)
        }
    }

    let state: Mutex<State>

    init(capacity: Int) {
        state = Mutex(State(memberships: MembershipStore(capacity: capacity)))
    }
}

/// The shards of one cache, and which one holds a member.
struct CacheShards: Sendable {
    let all: [CacheShard]
    /// The same shards, for the hit path: reaching one through ``all`` retains it, which writes
    /// its reference count, one cache line every core's checks would contend for. ``all``
    /// keeps them alive as long as this value.
    private let unretained: [Unmanaged<CacheShard>]
    private let mask: UInt64
    private let seed = UInt64.random(in: 0...UInt64.max)

    /// Up to 16 shards, about one per 1,024 memberships: a small cache stays one exact CLOCK,
    /// a large one spreads its members (and its lock) over 16. The capacity is split so the
    /// shards together hold `maximumMemberships` at most.
    init(maximumMemberships: Int) {
        var count = 1
        while count < 16 && count * 2 * 1_024 <= maximumMemberships { count *= 2 }
        all = (0..<count).map { index in
            CacheShard(capacity: maximumMemberships / count + (index < maximumMemberships % count ? 1 : 0))
        }
        unretained = all.map { Unmanaged.passUnretained($0) }
        mask = UInt64(count - 1)
    }

    /// The member's hash: its low bits choose the shard, its high bits the place in the
    /// shard's index (``MembershipStore``). Every bit of either id moves both choices, so ids
    /// that differ only in a few digits (sequential ones) spread as evenly as random ones.
    @inline(__always)
    func hash(_ key: MemberKey) -> UInt64 {
        let words = key.words
        var hasher = WordHasher(seed: seed)
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
        return hasher.finalize()
    }

    /// Runs `body` with the lock of the shard of a member with this hash, without retaining
    /// the shard.
    @inline(__always)
    func withShard<R>(hash: UInt64, _ body: (borrowing Mutex<CacheShard.State>) -> R) -> R {
        withExtendedLifetime(all) {
            unretained[shardIndex(hash: hash)]._withUnsafeGuaranteedRef { body($0.state) }
        }
    }

    /// Which of ``all`` holds a member with this hash.
    @inline(__always)
    func shardIndex(hash: UInt64) -> Int {
        Int(hash & mask)
    }
}
