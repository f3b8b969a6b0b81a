/// The catalogue as a check needs it: each code's `ancestor_nos` (its own number last), all
/// in one flat array, so a lookup is one hash of the code and no reference count is touched.
struct CompiledCatalogue: Sendable {
    /// Where a code's numbers are in ``numbers``.
    struct Ancestors: Sendable {
        let start: Int32
        let count: Int32
    }

    private let index: [String: Ancestors]
    private let numbers: [Int32]

    /// - Parameter rows: each code and its `ancestor_nos`.
    init(_ rows: [(code: String, ancestorNos: [Int32])]) {
        var index: [String: Ancestors] = [:]
        index.reserveCapacity(rows.count)
        var numbers: [Int32] = []
        for (code, ancestorNos) in rows {
            index[code] = Ancestors(start: Int32(numbers.count), count: Int32(ancestorNos.count))
            numbers += ancestorNos
        }
        self.index = index
        self.numbers = numbers
    }

    /// The code's numbers; nil for a code this catalogue does not hold.
    @inline(__always)
    func ancestors(of code: String) -> Ancestors? {
        index[code]
    }

    /// Whether the membership grants a code: it is the owner, or holds the code or an ancestor.
    @inline(__always)
    func grants(_ membership: borrowing CachedMembership, _ ancestors: Ancestors) -> Bool {
        if membership.isOwner { return true }
        let start = Int(ancestors.start)
        for position in start..<(start + Int(ancestors.count)) where membership.permissionNos.binarySearch(numbers[position]) {
            return true
        }
        return false
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
