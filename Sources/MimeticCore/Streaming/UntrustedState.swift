/// Read-only access to a stream state that came from outside (a snapshot to restore), for the
/// checks that run before it is adopted. Loads are unaligned (the caller's buffer may be
/// anywhere) and nothing allocates unless a problem is reported.
struct UntrustedState {
    let base: UnsafeRawPointer
    let count: Int

    func int(_ offset: Int) -> Int { base.loadUnaligned(fromByteOffset: offset, as: Int.self) }
    func double(_ offset: Int) -> Double { base.loadUnaligned(fromByteOffset: offset, as: Double.self) }
    func byte(_ offset: Int) -> UInt8 { base.load(fromByteOffset: offset, as: UInt8.self) }

    /// The first of `n` floats at `offset` that is NaN, ±Inf or larger in magnitude than `limit`,
    /// or nil. The default limit is far above anything a working stream holds (its values are
    /// normalised activations, samples, metres) and far enough below float32's range that
    /// arithmetic on restored values cannot overflow into NaN.
    func firstNonFinite(floatsAt offset: Int, count n: Int, limit: Float = UntrustedState.magnitudeLimit) -> Int? {
        let most = limit.bitPattern   // |x| ≤ limit ⇔ its bits without the sign are ≤ limit's (NaN and Inf are above)
        for i in 0..<n where base.loadUnaligned(fromByteOffset: offset + 4 * i, as: UInt32.self) & 0x7fff_ffff > most {
            return i
        }
        return nil
    }

    static let magnitudeLimit: Float = 1e8
    /// Buffered audio is repaired input (|x| ≤ 1) after the resampler's ripple.
    static let audioLimit: Float = 4

    func allFinite(doublesAt offset: Int, count n: Int) -> Bool {
        for i in 0..<n where !double(offset + 8 * i).isFinite { return false }
        return true
    }

    /// FNV-1a over the buffer's 8-byte little-endian words, the word at `skipping` taken as zero
    /// (that is where a snapshot keeps the result). A trailing partial word is zero-padded.
    static func checksum(_ p: UnsafeRawPointer, count: Int, skipping: Int) -> UInt64 {
        var h: UInt64 = 0xcbf29ce484222325
        var i = 0
        while i + 8 <= count {
            let w = i == skipping ? 0 : UInt64(littleEndian: p.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            h = (h ^ w) &* 0x100000001b3
            i += 8
        }
        if i < count {
            var w: UInt64 = 0
            for j in 0..<(count - i) { w |= UInt64(p.load(fromByteOffset: i + j, as: UInt8.self)) << (8 * UInt64(j)) }
            h = (h ^ w) &* 0x100000001b3
        }
        return h
    }
}

/// The largest count or index any stream reaches (2^50: centuries of audio), so that no
/// arithmetic on a restored counter can overflow.
let maxStreamCounter = 1 << 50
