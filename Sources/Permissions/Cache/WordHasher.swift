/// A fast, seeded hash of a few machine words, for the cache's own tables (the standard
/// library's SipHash costs more than the rest of a hit). Each word is mixed in with a multiply
/// and a shift; SplitMix64's finalizer then spreads every input bit over the result. With a
/// random seed per table, which inputs collide cannot be known outside the process; keys are
/// still compared in full, so a collision costs a probe, never a wrong answer.
struct WordHasher {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    @inline(__always)
    mutating func combine(_ word: UInt64) {
        let product = (state ^ word) &* 0x9E37_79B9_7F4A_7C15
        state = product ^ (product >> 32)
    }

    /// Mixes in bytes eight at a time, the last few zero-padded, then their count.
    @inline(__always)
    mutating func combine(_ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while offset + 8 <= bytes.count {
            combine(bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            offset += 8
        }
        if offset < bytes.count {
            var tail: UInt64 = 0
            for (shift, byte) in bytes[offset...].enumerated() { tail |= UInt64(byte) << (8 * shift) }
            combine(tail)
        }
        combine(UInt64(bytes.count))
    }

    @inline(__always)
    func finalize() -> UInt64 {
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}
