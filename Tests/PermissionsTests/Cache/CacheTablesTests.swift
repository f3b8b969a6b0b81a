import Foundation
@testable import Permissions
import Testing

/// The cache's in-memory tables against plain Swift collections, with no database: every
/// answer they give must be the collection's.
@Suite("PermissionCache's tables")
struct CacheTablesTests {
    /// How keys are hashed in a run: the cache's own hash, or degenerate ones that make every
    /// key share a home (so probing and the moving back of runs on removal carry every lookup).
    enum Hashing: CaseIterable, CustomTestStringConvertible {
        case seeded, fourHomes, oneHome

        var testDescription: String { "\(self)" }

        func hash(_ key: MemberKey, _ shards: CacheShards) -> UInt64 {
            switch self {
            case .seeded: shards.hash(key)
            case .fourHomes: (shards.hash(key) & 3) << 32
            case .oneHome: 0
            }
        }
    }

    @Test("random sets, uses, removals and evictions agree with a dictionary", arguments: Hashing.allCases)
    func modelBased(hashing: Hashing) {
        let shards = CacheShards(maximumMemberships: 1)
        let tenants = (0..<4).map { _ in TenantID(UUID()) }
        let keys = (0..<120).map { MemberKey(tenant: tenants[$0 % 4], user: UserID(UUID())) }
        var random = SystemRandomNumberGenerator()
        var store = MembershipStore(capacity: 60)
        var model: [Int: CachedMembership] = [:]  // by position in `keys`
        var evictions = 0, compactions = 0

        for step in 0..<6_000 {
            let pick = Int.random(in: 0..<keys.count, using: &random)
            let key = keys[pick], hash = hashing.hash(key, shards)
            switch Int.random(in: 0..<1_000, using: &random) {
            case 0..<500:
                // Large memberships now and then, so replaced ones leave gaps worth compacting.
                let size = Int.random(in: 0...(step % 7 == 0 ? 400 : 30), using: &random)
                let numbers = Set((0..<size).map { _ in Int32.random(in: 0..<600, using: &random) }).sorted()
                let membership = CachedMembership(isOwner: Int.random(in: 0..<20, using: &random) == 0, permissionNos: numbers)
                let before = Set(model.keys), arrayBefore = store.numbers.count
                store.set(key, hash: hash, membership)
                if store.numbers.count < arrayBefore { compactions += 1 }
                if model[pick] == nil && before.count == store.capacity {
                    // Full: exactly one other member went.
                    evictions += 1
                    let gone = before.filter { store.use(keys[$0], hash: hashing.hash(keys[$0], shards)) == nil }
                    #expect(gone.count == 1, "step \(step): \(gone.count) evicted")
                    gone.forEach { model[$0] = nil }
                }
                model[pick] = membership
            case 500..<600:
                #expect(store.remove(key, hash: hash) == (model.removeValue(forKey: pick) != nil))
            case 600..<603:
                let tenant = tenants[Int.random(in: 0..<4, using: &random)]
                let dropped = model.keys.filter { keys[$0].tenant == tenant }
                #expect(store.remove(tenant: tenant) == dropped.count)
                dropped.forEach { model[$0] = nil }
            case 603:
                #expect(store.removeAll() == model.count)
                model = [:]
            default:
                let entry = store.use(key, hash: hash)
                #expect((entry != nil) == (model[pick] != nil))
            }
            #expect(store.count == model.count && store.count <= store.capacity)
            if step % 50 == 0 || step > 5_900 { expectAgreement(store, model, keys, hashing, shards) }
        }
        #expect(store.evictions == evictions && evictions > 100, "\(evictions) evictions")
        #expect(compactions > 0, "the numbers were never compacted")
    }

    private func expectAgreement(_ store: MembershipStore, _ model: [Int: CachedMembership], _ keys: [MemberKey],
                                 _ hashing: Hashing, _ shards: CacheShards) {
        var store = store
        for (position, key) in keys.enumerated() {
            let entry = store.use(key, hash: hashing.hash(key, shards))
            guard let expected = model[position] else {
                #expect(entry == nil, "member \(position) is not held, yet found")
                continue
            }
            guard let entry else {
                Issue.record("member \(position) is held, yet not found")
                continue
            }
            #expect(store.isOwner(entry) == expected.isOwner)
            let held = Set(expected.permissionNos)
            let wrong = (-2..<602).filter { store.holds(entry, Int32($0)) != held.contains(Int32($0)) }
            #expect(wrong.isEmpty, "member \(position): numbers \(wrong.prefix(5)) answered wrongly")
        }
    }

    @Test("when full, the member not used since the hand last passed goes, not the one just read")
    func clockEviction() {
        let shards = CacheShards(maximumMemberships: 1)
        let keys = (0..<4).map { _ in MemberKey(tenant: TenantID(UUID()), user: UserID(UUID())) }
        var store = MembershipStore(capacity: 3)
        for key in keys.prefix(3) { store.set(key, hash: shards.hash(key), .none) }
        #expect(store.use(keys[0], hash: shards.hash(keys[0])) != nil)
        store.set(keys[3], hash: shards.hash(keys[3]), .none)
        #expect(store.use(keys[1], hash: shards.hash(keys[1])) == nil)
        #expect([0, 2, 3].allSatisfy { store.use(keys[$0], hash: shards.hash(keys[$0])) != nil })
        #expect(store.evictions == 1 && store.count == 3)
    }

    @Test("binary search finds exactly the values of the range, at every length and offset")
    func binarySearch() {
        let values: [Int32] = (0..<50).map { $0 * 3 + 1 }
        for start in 0..<5 {
            for end in start...values.count {
                let range = start..<end, expected = Set(values[range])
                let wrong = (-1..<160).filter { values.binarySearch(Int32($0), in: range) != expected.contains(Int32($0)) }
                #expect(wrong.isEmpty, "range \(range): \(wrong.prefix(5))")
            }
        }
    }

    @Test("the compiled catalogue finds every code it holds, by its bytes, and no other")
    func catalogue() {
        var codes = (0..<3_000).map { "module\($0 % 40).sub\($0 % 7).permission_\($0)" }
        codes += ["", "a", "users.view", "12345678", "1234567", "123456789", "ütf.ß", "nul\u{0}byte", "nul\u{0}bytf", "😀.😀"]
        let rows = codes.enumerated().map { (code: $1, ancestorNos: [Int32($0), Int32($0 + 10_000)]) }
        let catalogue = CompiledCatalogue(rows)
        for (number, code) in codes.enumerated() {
            guard let ancestors = catalogue.ancestors(of: code) else {
                Issue.record("\(code.debugDescription) not found")
                continue
            }
            #expect(catalogue.grants(ancestors, isOwner: false) { $0 == Int32(number + 10_000) })
            #expect(!catalogue.grants(ancestors, isOwner: false) { $0 == Int32(number + 1) })
            #expect(catalogue.grants(ancestors, isOwner: true) { _ in false })
        }
        // A code built at run time (not a literal) and bridged-looking strings find the same entry.
        #expect(catalogue.ancestors(of: String("users.") + "view") != nil)
        #expect(catalogue.ancestors(of: String(decoding: Array("ütf.ß".utf8), as: UTF8.self)) != nil)
        for unknown in ["users.vie", "users.view ", "USERS.VIEW", "nul", "nul\u{0}", "module1.sub1.permission_1x", "ütf.s"] {
            #expect(catalogue.ancestors(of: unknown) == nil, "\(unknown.debugDescription) found")
        }
        #expect(CompiledCatalogue([]).ancestors(of: "users.view") == nil)
    }
}
