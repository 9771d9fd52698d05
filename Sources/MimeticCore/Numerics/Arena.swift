/// A bump allocator over a fixed float region: the scratch memory of a forward pass.
///
/// Streaming runs the encoder inside a stream's one state buffer, so no layer may allocate:
/// each takes what it needs from the arena and gives it back (`mark`/`release`) when done, like a
/// stack. Sizes are planned up front (`*ScratchFloats` functions); running out is a planning bug.
struct Arena {
    let base: UnsafeMutablePointer<Float>
    let capacity: Int
    private(set) var used = 0
    private(set) var peak = 0

    init(base: UnsafeMutablePointer<Float>, capacity: Int) {
        self.base = base
        self.capacity = capacity
    }

    /// Rounded to 16 floats so every block is 64-byte aligned when the base is.
    static func rounded(_ n: Int) -> Int { (n + 15) & ~15 }

    mutating func take(_ n: Int) -> UnsafeMutablePointer<Float> {
        let p = base + used
        used += Self.rounded(n)
        precondition(used <= capacity, "arena overflow: \(used) of \(capacity) floats (scratch planning bug)")
        peak = max(peak, used)
        return p
    }

    func mark() -> Int { used }
    mutating func release(to mark: Int) { used = mark }
}

/// An arena backed by its own heap memory, for offline (whole-utterance) runs.
final class HeapArena {
    let storage: FloatStorage
    var arena: Arena
    init(floats: Int) {
        storage = FloatStorage(count: Arena.rounded(floats) + 16)
        arena = Arena(base: storage.pointer, capacity: storage.count)
    }
}
