import Foundation
@testable import Permissions
import Testing

@Suite("PermissionCache's shards")
struct CacheShardTests {
    @Test("shard count and capacities: one exact store when small, 16 that hold the maximum together when large")
    func sizes() {
        #expect(CacheShards(maximumMemberships: 3).all.count == 1)
        #expect(CacheShards(maximumMemberships: 2_047).all.count == 1)
        #expect(CacheShards(maximumMemberships: 2_048).all.count == 2)
        #expect(CacheShards(maximumMemberships: 4_096).all.count == 4)
        let large = CacheShards(maximumMemberships: 100_003)
        #expect(large.all.count == 16)
        #expect(large.all.map { $0.state.withLock { $0.memberships.capacity } }.reduce(0, +) == 100_003)
    }

    @Test("members spread evenly over the shards, for sequential ids as for random ones")
    func spread() {
        let shards = CacheShards(maximumMemberships: 100_000)
        func counts(_ keys: [MemberKey]) -> [Int] {
            var counts = [Int](repeating: 0, count: shards.all.count)
            for key in keys { counts[shards.shardIndex(hash: shards.hash(key))] += 1 }
            return counts
        }
        // Ids that differ only in their last decimal digits, as `pgperm bench` makes them.
        func sequential(_ kind: Int, _ number: Int) -> UUID {
            UUID(uuidString: String(format: "00000000-0000-0000-%04d-%012d", kind, number))!
        }
        let patterned = (1...16_000).map { MemberKey(tenant: TenantID(sequential(2, ($0 - 1) / 100 + 1)), user: UserID(sequential(1, $0))) }
        let random = (1...16_000).map { _ in MemberKey(tenant: TenantID(UUID()), user: UserID(UUID())) }
        // 1,000 expected in each; a shard with under 800 or over 1,200 means the choice ignores bits.
        for keys in [patterned, random] {
            let found = counts(keys)
            #expect(found.allSatisfy { (800...1_200).contains($0) }, "\(found)")
        }
        // The same member always lands in the same shard.
        #expect(shards.hash(patterned[7]) == shards.hash(patterned[7]))
    }
}
