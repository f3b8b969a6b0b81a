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
    private let mask: UInt64

    /// Up to 16 shards, about one per 1,024 memberships: a small cache stays one exact CLOCK,
    /// a large one spreads its members (and its lock) over 16. The capacity is split so the
    /// shards together hold `maximumMemberships` at most.
    init(maximumMemberships: Int) {
        var count = 1
        while count < 16 && count * 2 * 1_024 <= maximumMemberships { count *= 2 }
        all = (0..<count).map { index in
            CacheShard(capacity: maximumMemberships / count + (index < maximumMemberships % count ? 1 : 0))
        }
        mask = UInt64(count - 1)
    }

    /// Runs `body` with the member's shard's lock (not retaining the shard: a shared reference
    /// count would be written by every check on every core).
    ///
    /// The shard is chosen from the two ids' 32 bytes folded to 64 bits and mixed (SplitMix64's
    /// finalizer), so every bit of either id moves the choice: ids that differ only in a few
    /// digits (sequential ones) spread as evenly as random ones. The shard's own dictionary
    /// hashes the ids in full, with the process's random seed.
    func withShard<R>(for key: MemberKey, _ body: (borrowing Mutex<CacheShard.State>) -> R) -> R {
        body(all[index(for: key)].state)
    }

    /// The member's shard.
    func shard(for key: MemberKey) -> CacheShard {
        all[index(for: key)]
    }

    private func index(for key: MemberKey) -> Int {
        var mixed = Self.fold(key.tenant.rawValue) &* 0x9E37_79B9_7F4A_7C15 ^ Self.fold(key.user.rawValue)
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((mixed ^ (mixed >> 31)) & mask)
    }

    private static func fold(_ id: UUID) -> UInt64 {
        withUnsafeBytes(of: id.uuid) { $0.loadUnaligned(as: UInt64.self) ^ $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self) }
    }
}
