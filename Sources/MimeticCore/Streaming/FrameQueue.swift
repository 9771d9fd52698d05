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

extension FrameQueue {
    /// Why the queue section `s` of a restored state cannot be this stream's, or nil: every index
    /// inside the ring, the queued frames the ones just before `nextFrame`, their offsets finite.
    func problem(_ s: State, _ raw: UntrustedState, offsetsAt offsetsOffset: Int, recordsAt recordsOffset: Int, nextFrame: Int) -> String? {
        guard (0..<capacity).contains(s.head), (0...capacity).contains(s.count), (0...maxStreamCounter).contains(s.pulled) else {
            return "frame queue counters out of range (head \(s.head), count \(s.count) of \(capacity))"
        }
        guard s.count <= nextFrame else { return "frame queue holds \(s.count) frames but only \(nextFrame) were decoded" }
        let stride = MemoryLayout<Record>.stride
        let finalOffset = MemoryLayout<Record>.offset(of: \Record.isFinal)!
        for i in 0..<s.count {
            let slot = (s.head + i) % capacity
            let at = recordsOffset + slot * stride
            guard raw.int(at) == nextFrame - s.count + i else { return "queued frame \(i) has index \(raw.int(at)), expected \(nextFrame - s.count + i)" }
            guard raw.double(at + MemoryLayout<Record>.offset(of: \Record.latency)!).isFinite, raw.byte(at + finalOffset) <= 1 else { return "queued frame \(i) has a corrupt record" }
            if let j = raw.firstNonFinite(floatsAt: offsetsOffset + 4 * slot * frameSize, count: frameSize) {
                return "queued frame \(i): offset \(j) is out of range"
            }
        }
        return nil
    }
}
