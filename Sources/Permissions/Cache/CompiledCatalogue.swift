/// The catalogue as a check needs it: each code's `ancestor_nos` (its own number last), all
/// in one flat array.
///
/// Codes are found through an open-addressing table hashed with ``WordHasher`` over the code's
/// bytes: one hash, one probe, one comparison, and no reference count touched.
struct CompiledCatalogue: Sendable {
    /// Where a code's numbers are in ``numbers``.
    struct Ancestors: Sendable {
        let start: Int32
        let count: Int32
    }

    private struct Entry: Sendable {
        let hash: UInt64
        let code: String
        let ancestors: Ancestors
    }

    private let entries: [Entry]
    private let index: SlotIndex
    private let numbers: [Int32]
    private let seed = UInt64.random(in: 0...UInt64.max)

    /// - Parameter rows: each code and its `ancestor_nos`.
    init(_ rows: [(code: String, ancestorNos: [Int32])]) {
        var entries: [Entry] = [], numbers: [Int32] = []
        var index = SlotIndex(roomFor: rows.count)
        for (code, ancestorNos) in rows {
            let hash = Self.hash(code, seed: seed)
            index.insert(entries.count, home: UInt32(truncatingIfNeeded: hash))
            entries.append(Entry(hash: hash, code: code,
                                 ancestors: Ancestors(start: Int32(numbers.count), count: Int32(ancestorNos.count))))
            numbers += ancestorNos
        }
        self.entries = entries
        self.index = index
        self.numbers = numbers
    }

    /// The code's numbers; nil for a code this catalogue does not hold.
    @inline(__always)
    func ancestors(of code: String) -> Ancestors? {
        let hash = Self.hash(code, seed: seed)
        let found = index.find(home: UInt32(truncatingIfNeeded: hash)) { entries[$0].hash == hash && entries[$0].code == code }
        return found.map { entries[$0.entry].ancestors }
    }

    @inline(__always)
    private static func hash(_ code: String, seed: UInt64) -> UInt64 {
        var hasher = WordHasher(seed: seed)
        if code.utf8.withContiguousStorageIfAvailable({ hasher.combine(UnsafeRawBufferPointer($0)) }) == nil {
            Array(code.utf8).withUnsafeBytes { hasher.combine($0) }
        }
        return hasher.finalize()
    }

    /// Whether a member grants a code: it is the owner, or `holds` one of the code's numbers
    /// (the code's own or an ancestor's).
    @inline(__always)
    func grants(_ ancestors: Ancestors, isOwner: Bool, holds: (Int32) -> Bool) -> Bool {
        if isOwner { return true }
        let start = Int(ancestors.start)
        for position in start..<(start + Int(ancestors.count)) where holds(numbers[position]) {
            return true
        }
        return false
    }
}

extension Array where Element == Int32 {
    /// Whether the part of the array in `range`, sorted, holds `value`.
    ///
    /// Halves the range a fixed number of times, choosing each half with a conditional move
    /// rather than a branch: a check searches a few numbers in each of several ranges, and
    /// mispredicted branches would cost more than the reads.
    @inline(__always)
    func binarySearch(_ value: Int32, in range: Range<Int>) -> Bool {
        var base = range.lowerBound, length = range.count
        guard length > 0 else { return false }
        while length > 1 {
            let half = length / 2
            base += half &* Int(unsafeBitCast(self[base + half] <= value, to: UInt8.self))  // no branch
            length -= half
        }
        return self[base] == value
    }
}
