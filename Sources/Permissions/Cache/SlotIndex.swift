/// Where the entries of one of the cache's tables are, by hash: linear probing over a
/// power-of-two array of entry numbers (-1 for a free position), kept at most half full so a
/// lookup usually reads one position. The entries themselves (and their keys) are the table's;
/// each is placed from its `home`, the hash bits the table chose.
struct SlotIndex {
    private var positions: [Int32]

    /// An empty index with room for `count` entries.
    init(roomFor count: Int) {
        var size = 16
        while size < count * 2 { size *= 2 }
        positions = [Int32](repeating: -1, count: size)
    }

    var capacity: Int { positions.count / 2 }
    var bytes: Int { positions.capacity * MemoryLayout<Int32>.stride }

    /// The position and number of the first entry from `home` on that `matches`; nil when a
    /// free position comes first.
    @inline(__always)
    func find(home: UInt32, matches: (Int) -> Bool) -> (position: Int, entry: Int)? {
        let mask = positions.count - 1
        var position = Int(home) & mask
        while true {
            let entry = Int(positions[position])
            if entry < 0 { return nil }
            if matches(entry) { return (position, entry) }
            position = (position + 1) & mask
        }
    }

    /// Places an entry at the first free position from its home. The caller keeps the index
    /// at most half full (``capacity``).
    mutating func insert(_ entry: Int, home: UInt32) {
        let mask = positions.count - 1
        var position = Int(home) & mask
        while positions[position] >= 0 { position = (position + 1) & mask }
        positions[position] = Int32(entry)
    }

    /// Points a position at another entry number (the entry moved in the table).
    mutating func renumber(_ position: Int, to entry: Int) {
        positions[position] = Int32(entry)
    }

    /// Empties a position, moving later entries of its run back so every entry stays
    /// reachable from its home without markers of removed ones.
    mutating func vacate(_ position: Int, home: (Int) -> UInt32) {
        let mask = positions.count - 1
        var hole = position, next = (position + 1) & mask
        while positions[next] >= 0 {
            let nextHome = Int(home(Int(positions[next]))) & mask
            // The entry may fill the hole when its home is not between the hole and it.
            if (next &- nextHome) & mask >= (next &- hole) & mask {
                positions[hole] = positions[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        positions[hole] = -1
    }
}
