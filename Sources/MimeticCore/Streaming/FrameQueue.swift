/// The frames a stream has computed and the caller has not pulled yet: a ring of `capacity`
/// offset rows with a record each, inside the stream's buffer.
struct FrameQueue {
    struct State {
        var head = 0
        var count = 0
        var pulled = 0
    }

    /// A finished frame's record.
    struct Record {
        var frameIndex: Int
        var latency: Double
        var isFinal: Bool
    }

    let state: UnsafeMutablePointer<State>
    let offsets: UnsafeMutablePointer<Float>
    let records: UnsafeMutablePointer<Record>
    let capacity: Int
    let frameSize: Int

    func reset() { state.pointee = State() }

    var count: Int { state.pointee.count }
    var isFull: Bool { state.pointee.count == capacity }
    func hasRoom(for n: Int) -> Bool { state.pointee.count + n <= capacity }

    /// Where the next frame's offsets go (valid until `append`).
    var nextSlot: UnsafeMutablePointer<Float> { offsets + ((state.pointee.head + state.pointee.count) % capacity) * frameSize }

    /// Commits the frame written at `nextSlot`.
    func append(_ r: Record) {
        records[(state.pointee.head + state.pointee.count) % capacity] = r
        state.pointee.count += 1
    }

    /// Pops the oldest frame into `out` (frameSize floats); nil when empty.
    func pop(into out: UnsafeMutablePointer<Float>) -> Record? {
        let s = state
        guard s.pointee.count > 0 else { return nil }
        let slot = s.pointee.head
        out.update(from: offsets + slot * frameSize, count: frameSize)
        s.pointee.head = (slot + 1) % capacity
        s.pointee.count -= 1
        s.pointee.pulled += 1
        return records[slot]
    }

    /// Marks frame `index` final if it is the newest frame queued (a real-time stream can compute
    /// the utterance's last frame before it knows that it is the last).
    func markFinal(frameIndex index: Int) {
        guard state.pointee.count > 0 else { return }
        let slot = (state.pointee.head + state.pointee.count - 1) % capacity
        if records[slot].frameIndex == index { records[slot].isFinal = true }
    }
}
