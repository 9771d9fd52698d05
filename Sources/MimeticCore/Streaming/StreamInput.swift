/// Audio in: repair (NaN → 0, clipped to ±1) or rejection of bad samples, resampling to the
/// encoder's 16 kHz, and the buffer of 16 kHz samples the encoder has not consumed yet.
/// Cheap and allocation-free: this is all that runs on the audio thread.
struct StreamInput {
    struct State {
        var samplesPushed = 0       // input-rate samples accepted
        var repaired = 0            // samples replaced (NaN) or clipped
        var count = 0               // 16 kHz samples held
        var flushed = false         // the utterance has ended
        var resampler = ResamplerKernel.State()
    }

    let state: UnsafeMutablePointer<State>
    /// 16 kHz samples held, oldest first.
    let samples: UnsafeMutablePointer<Float>
    let capacity: Int
    /// Staging for one block of repaired input (also the style setters' scratch).
    let scratch: UnsafeMutablePointer<Float>
    static let scratchFloats = 256
    let resampler: ResamplerKernel?
    let history: UnsafeMutablePointer<Float>
    let policy: StreamParams.SamplePolicy

    func reset() {
        state.pointee = State()
        if let r = resampler { r.reset(&state.pointee.resampler, history: history) }
    }

    var count: Int { state.pointee.count }
    var flushed: Bool { state.pointee.flushed }

    /// 16 kHz samples that `n` more input samples can add.
    func growth(forInput n: Int) -> Int { resampler?.maxOutputCount(forInput: n) ?? n }
    var free: Int { capacity - state.pointee.count }

    /// Under the reject policy, refuses a chunk with a non-finite sample before anything is consumed.
    func check(_ x: UnsafePointer<Float>, count n: Int) throws {
        guard policy == .reject else { return }
        for i in 0..<n where !x[i].isFinite {
            throw MimeticError.invalidAudio("sample \(i) of the chunk is \(x[i]); the stream rejects non-finite samples (policy reject), nothing was consumed")
        }
    }

    /// Appends float samples (repaired); the caller has checked them and `growth` against `free`.
    func append(_ x: UnsafePointer<Float>, count n: Int) {
        var done = 0
        while done < n {
            let m = min(Self.scratchFloats, n - done)
            var repaired = 0
            for i in 0..<m {
                let v = x[done + i]
                if v.isNaN { scratch[i] = 0; repaired += 1 }
                else if v > 1 { scratch[i] = 1; repaired += 1 }
                else if v < -1 { scratch[i] = -1; repaired += 1 }
                else { scratch[i] = v }
            }
            state.pointee.repaired += repaired
            append16k(scratch, count: m)
            done += m
        }
        state.pointee.samplesPushed += n
    }

    /// Appends 16-bit PCM (full scale 32768).
    func append(int16 x: UnsafePointer<Int16>, count n: Int) {
        var done = 0
        while done < n {
            let m = min(Self.scratchFloats, n - done)
            for i in 0..<m { scratch[i] = Float(x[done + i]) / 32768 }
            append16k(scratch, count: m)
            done += m
        }
        state.pointee.samplesPushed += n
    }

    private func append16k(_ x: UnsafePointer<Float>, count m: Int) {
        let s = state
        let dst = samples + s.pointee.count
        if let r = resampler {
            s.pointee.count += r.process(&s.pointee.resampler, history: history, input: x, count: m, output: dst, limit: Int.max)
        } else {
            dst.update(from: x, count: m)
            s.pointee.count += m
        }
    }

    /// 16 kHz samples the resampler still owes at the end of the utterance.
    var pendingAtFlush: Int { resampler.map { $0.pendingOutputCount(state.pointee.resampler) } ?? 0 }

    /// Ends the utterance: the resampler's tail goes into the buffer (the caller has made room).
    func finish() {
        let s = state
        if let r = resampler {
            s.pointee.count += r.flush(&s.pointee.resampler, history: history, output: samples + s.pointee.count)
        }
        s.pointee.flushed = true
    }

    /// Drops the oldest `n` samples (the encoder is done with them).
    func consume(_ n: Int) {
        guard n > 0 else { return }
        let rest = state.pointee.count - n
        UnsafeMutableRawPointer(samples).copyMemory(from: samples + n, byteCount: rest * 4)
        state.pointee.count = rest
    }
}

extension StreamInput {
    /// Why the input section `s` of a restored state cannot be this stream's, or nil.
    func problem(_ s: State, _ raw: UntrustedState, audioOffset: Int, historyOffset: Int) -> String? {
        guard (0...capacity).contains(s.count) else { return "input holds \(s.count) samples; its buffer has \(capacity)" }
        guard (0...maxStreamCounter).contains(s.samplesPushed), (0...s.samplesPushed).contains(s.repaired) else {
            return "input counters out of range (pushed \(s.samplesPushed), repaired \(s.repaired))"
        }
        if let r = resampler {
            if let p = r.problem(s.resampler) { return "input " + p }
            if let i = raw.firstNonFinite(floatsAt: historyOffset, count: r.historyCapacity, limit: UntrustedState.audioLimit) {
                return "resampler history sample \(i) is out of range"
            }
        }
        if let i = raw.firstNonFinite(floatsAt: audioOffset, count: s.count, limit: UntrustedState.audioLimit) { return "buffered audio sample \(i) is out of range" }
        return nil
    }
}
