/// The real-time encoder run frame by frame inside a stream's buffer: exact (its features equal
/// offline up to float rounding, GEMV vs GEMM) and allocation-free.
///
/// State: the 16 kHz audio from the next mel window's start (`audioBase` is the global index of
/// the input buffer's first sample), and for each layer its input rows from the first one its
/// next output reads (`(K − 1)·d − a` zero rows at the start), with the count of rows held and
/// of outputs produced. Frame t is computed once its interval is complete, (t + 1)·16000 ≤ N·fps,
/// and the samples up to its last mel window's end have arrived (after the end of the utterance:
/// while t < floor(N·fps / 16000), with zeros past the end). Each frame computes only its new
/// rows (k mel frames and k rows of each mel-rate layer, one row of the others), always in the
/// same batches whatever the push sizes, so the output does not depend on how audio arrives.
struct RealtimeEncoderStream {
    struct State {
        var audioBase = 0   // global 16 kHz index of the input buffer's first sample
        var melFrames = 0   // mel frames computed so far
    }

    /// Where its state lives in the stream's buffer.
    struct Regions {
        var state: UnsafeMutablePointer<State>
        var counts: UnsafeMutablePointer<Int>       // per layer: rows held, outputs produced
        var staging: [UnsafeMutablePointer<Float>]  // each layer's input rows
        var stagingRows: [Int]                      // their capacities
        var window: UnsafeMutablePointer<Float>     // one mel window of samples
        var fft: UnsafeMutablePointer<Double>       // front-end scratch
        var row: UnsafeMutablePointer<Float>        // the newest encoder row (H) and its audio features (d)
        var arena: UnsafeMutablePointer<Float>
        var arenaFloats: Int
    }

    let encoder: RealtimeEncoder
    let audioMap: Linear
    let featureWidth: Int
    let r: Regions

    var state: UnsafeMutablePointer<State> { r.state }

    /// Zero rows in front of every layer's input, nothing produced, no audio, no mel frames.
    func reset() {
        for (i, l) in encoder.layers.enumerated() {
            r.counts[2 * i] = l.leftPad
            r.counts[2 * i + 1] = 0
            r.staging[i].update(repeating: 0, count: l.leftPad * l.inChannels)
        }
        state.pointee = State()
    }

    /// Frames of the utterance so far (all of them once the input has ended).
    func framesAvailable(_ input: StreamInput) -> Int { encoder.frames(samples: state.pointee.audioBase + input.count) }

    /// Whether frame `t` can be computed from the audio in.
    func canEncode(frame t: Int, _ input: StreamInput) -> Bool {
        let total = state.pointee.audioBase + input.count
        if input.flushed { return t < encoder.frames(samples: total) }
        return (t + 1) * 16000 <= total * encoder.fps && encoder.samplesNeeded(frame: t) <= total
    }

    /// Frame t's audio features (d floats in the stream's row region, valid until the next frame).
    /// In three stages, which a batch of streams runs layer by layer across its streams
    /// (`StreamEngine.processBatch`): the new mel frames, each layer's new outputs, the features.
    func encode(frame t: Int, _ input: StreamInput) -> UnsafeMutablePointer<Float> {
        appendMelFrames(frame: t, input)
        var arena = Arena(base: r.arena, capacity: r.arenaFloats)
        for (i, l) in encoder.layers.enumerated() {
            let work = layerWork(i, frame: t)
            guard work.outputs > 0 else { continue }
            l.forward(work.input, outputs: work.outputs, into: work.output, arena: &arena)
            layerDone(i, outputs: work.outputs)
        }
        return finishFrame()
    }

    /// Stage 1: frame t's new mel frames, normalised, appended to the first layer's input.
    func appendMelFrames(frame t: Int, _ input: StreamInput) {
        let rt = encoder
        let s = state
        let total = s.pointee.audioBase + input.count
        let fe = rt.frontEnd
        let nm = rt.config.n_mels
        let mels = rt.melFrames(frames: t + 1)
        while s.pointee.melFrames < mels {
            let j = s.pointee.melFrames
            precondition(fe.windowEnd(j) - fe.winLength >= s.pointee.audioBase || fe.windowEnd(j) - fe.winLength < 0,
                         "realtime stream: audio of mel frame \(j) was dropped")
            fe.fillWindow(j, samples: input.samples, base: s.pointee.audioBase, available: total - s.pointee.audioBase, into: r.window)
            let row = r.staging[0] + r.counts[0] * nm
            fe.logMel(window: r.window, scratch: r.fft, into: row)
            rt.normalizeMel(row, rows: 1, into: row)
            r.counts[0] += 1
            s.pointee.melFrames = j + 1
        }
    }

    /// Stage 2, layer i: the outputs frame t still needs of it (0: none), the input row the first
    /// one reads, and where they go (the next layer's input; the last layer's: the row region).
    func layerWork(_ i: Int, frame t: Int) -> (outputs: Int, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
        let rt = encoder, l = rt.layers[i]
        let m = rt.needed(layer: i, frames: t + 1) - r.counts[2 * i + 1]
        let last = i == rt.layers.count - 1
        let dst = last ? r.row : r.staging[i + 1] + r.counts[2 * (i + 1)] * l.outChannels
        guard m > 0 else { return (0, UnsafePointer(r.staging[i]), dst) }
        precondition(r.counts[2 * i] >= l.rowsRead(outputs: m), "realtime stream: layer \(i) lacks input rows")
        precondition(last || r.counts[2 * (i + 1)] + m <= r.stagingRows[i + 1], "realtime stream: layer \(i + 1) input overflow")
        return (m, UnsafePointer(r.staging[i]), dst)
    }

    /// Stage 2, once layer i's `m` outputs are written: its consumed input rows dropped, the counts.
    func layerDone(_ i: Int, outputs m: Int) {
        let l = encoder.layers[i]
        let src = r.staging[i]
        let consumed = l.stride * m
        UnsafeMutableRawPointer(src).copyMemory(from: src + consumed * l.inChannels, byteCount: (r.counts[2 * i] - consumed) * l.inChannels * 4)
        r.counts[2 * i] -= consumed
        r.counts[2 * i + 1] += m
        if i < encoder.layers.count - 1 { r.counts[2 * (i + 1)] += m }
    }

    /// Stage 3: the encoder row normalised, mapped to the decoder's audio features.
    func finishFrame() -> UnsafeMutablePointer<Float> {
        let rt = encoder
        rt.norm.apply(r.row, rows: 1, cols: rt.hiddenSize)
        let features = r.row + rt.hiddenSize
        audioMap.apply(r.row, rows: 1, ldx: rt.hiddenSize, into: features, ldy: featureWidth)
        return features
    }

    /// Scratch for stage 2 of a batch: this stream's arena.
    func arena() -> Arena { Arena(base: r.arena, capacity: r.arenaFloats) }

    /// Drops the input audio before the next mel window's start.
    func trim(_ input: StreamInput) {
        let s = state
        let keep = encoder.frontEnd.windowEnd(s.pointee.melFrames) - encoder.frontEnd.winLength
        let drop = min(max(0, keep - s.pointee.audioBase), input.count)
        guard drop > 0 else { return }
        input.consume(drop)
        s.pointee.audioBase += drop
    }
}

extension RealtimeEncoderStream {
    /// Why the encoder section `s` of a restored state (at `raw`, laid out like the live buffer
    /// at `live`) cannot be this stream's after `framesDone` frames, or nil. Its counters are
    /// fixed by the frame count: each layer has produced exactly the outputs those frames need and
    /// holds its zero rows plus its inputs not yet consumed.
    func problem(_ s: State, _ raw: UntrustedState, live: UnsafeRawPointer, framesDone: Int) -> String? {
        func offset<T>(_ p: UnsafeMutablePointer<T>) -> Int { UnsafeRawPointer(p) - live }
        let rt = encoder
        guard s.melFrames == rt.melFrames(frames: framesDone) else {
            return "real-time encoder: \(s.melFrames) mel frames after \(framesDone) frames (expected \(rt.melFrames(frames: framesDone)))"
        }
        let keep = rt.frontEnd.windowEnd(s.melFrames) - rt.frontEnd.winLength
        guard s.audioBase >= 0, s.audioBase <= max(0, keep) else { return "real-time encoder: audio starts at \(s.audioBase), after the next mel window (\(keep))" }
        var previous = s.melFrames
        for (i, l) in rt.layers.enumerated() {
            let held = raw.int(offset(r.counts) + 16 * i), produced = raw.int(offset(r.counts) + 16 * i + 8)
            let expected = rt.needed(layer: i, frames: framesDone)
            guard produced == expected, held == l.leftPad + previous - l.stride * produced, (0...r.stagingRows[i]).contains(held) else {
                return "real-time encoder layer \(i): \(held) rows held, \(produced) produced after \(framesDone) frames"
            }
            if let j = raw.firstNonFinite(floatsAt: offset(r.staging[i]), count: held * l.inChannels) { return "real-time encoder layer \(i) input value \(j) is out of range" }
            previous = produced
        }
        return nil
    }
}
