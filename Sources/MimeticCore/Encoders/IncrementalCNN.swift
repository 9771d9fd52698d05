/// wav2vec 2.0's conv feature encoder run incrementally over a stream's audio, inside the
/// stream's buffer: each conv layer keeps the tail of its input (its staging rows), and the
/// per-utterance normalisations use running statistics instead — the input's z-norm and the first
/// layer's GroupNorm over every sample and frame so far. The layer loop is the encoder's own
/// (`Wav2Vec2Encoder.convLayer`). Allocation-free.
///
/// Audio is taken in whole chunks of `chunkSamples` (the last may be short once the utterance
/// ends), each run through every layer before the next: the statistics then update at the same
/// points however the audio was pushed and whenever frames were pulled, so chunking never changes
/// the output.
struct IncrementalCNN {
    struct State {
        var inputSum = 0.0          // running input normalisation: Σx, Σx², n
        var inputSumSq = 0.0
        var inputSamples = 0.0
        var channelFrames = 0.0     // frames in the running GroupNorm statistics
        var base = 0                // global index of the first CNN frame held
        var count = 0               // CNN frames held
        /// Tests: normalisation statistics fixed to given values instead of running ones.
        var statisticsFrozen = false

        var total: Int { base + count }
    }

    /// Where its state lives in the stream's buffer and how big each part is.
    struct Regions {
        var state: UnsafeMutablePointer<State>
        var staging: [UnsafeMutablePointer<Float>]   // each layer's input rows
        var stagingCapacity: [Int]                   // in rows
        var stagingCounts: UnsafeMutablePointer<Int> // rows held per layer
        var channelStats: UnsafeMutablePointer<Double> // Σy, Σy² per first-layer channel
        var frames: UnsafeMutablePointer<Float>      // CNN frames held [capacity, C]
        var frameCapacity: Int
        var arena: UnsafeMutablePointer<Float>
        var arenaFloats: Int
    }

    let encoder: Wav2Vec2Encoder
    let r: Regions
    let chunkSamples: Int
    /// CNN frames one chunk can complete (room the frame buffer must have before a chunk runs).
    let chunkFrames: Int

    var state: UnsafeMutablePointer<State> { r.state }
    var channels: Int { encoder.cnnChannels }

    func reset() {
        state.pointee = State()
        for i in r.stagingCapacity.indices { r.stagingCounts[i] = 0 }
        r.channelStats.update(repeating: 0, count: 2 * encoder.config.conv_dim[0])
    }

    /// Every CNN frame of the utterance exists: the input has ended and been consumed, and no layer
    /// can produce another output.
    func isComplete(_ input: StreamInput) -> Bool {
        guard input.flushed, input.count == 0 else { return false }
        for (i, layer) in encoder.convLayers.enumerated() where r.stagingCounts[i] >= layer.conv.kernel { return false }
        return true
    }

    /// Forgets the CNN frames before global index `oldest` (no later window reads them).
    func dropFrames(before oldest: Int) {
        let s = state
        let drop = min(s.pointee.count, oldest - s.pointee.base)
        guard drop > 0 else { return }
        let c = channels
        UnsafeMutableRawPointer(r.frames).copyMemory(from: r.frames + drop * c, byteCount: (s.pointee.count - drop) * c * 4)
        s.pointee.base += drop
        s.pointee.count -= drop
    }

    /// Runs every whole chunk of the input (and, once it has ended, the short last one) through
    /// the layers while the frame buffer has room.
    func run(_ input: StreamInput) {
        let s = state
        let eps = encoder.config.input_norm_eps
        var arena = Arena(base: r.arena, capacity: r.arenaFloats)
        while input.count >= chunkSamples || (input.flushed && input.count > 0) {
            guard r.frameCapacity - s.pointee.count >= chunkFrames else { break }
            let take = min(chunkSamples, input.count)
            let src = input.samples
            if !s.pointee.statisticsFrozen {
                var sum = 0.0, sumSq = 0.0
                for i in 0..<take { let x = Double(src[i]); sum += x; sumSq += x * x }
                s.pointee.inputSum += sum
                s.pointee.inputSumSq += sumSq
                s.pointee.inputSamples += Double(take)
            }
            let mean = s.pointee.inputSum / s.pointee.inputSamples
            let variance = max(0, s.pointee.inputSumSq / s.pointee.inputSamples - mean * mean)
            let inv = 1 / (variance + eps).squareRoot()
            let dst = r.staging[0] + r.stagingCounts[0]
            for i in 0..<take { dst[i] = Float((Double(src[i]) - mean) * inv) }
            r.stagingCounts[0] += take
            input.consume(take)
            runLayers(&arena)
        }
    }

    /// Each conv layer: every output whose receptive field is complete.
    private func runLayers(_ arena: inout Arena) {
        let s = state
        let layers = encoder.convLayers
        for (i, layer) in layers.enumerated() {
            let conv = layer.conv
            let available = r.stagingCounts[i]
            guard available >= conv.kernel else { continue }
            let outputs = (available - conv.kernel) / conv.stride + 1
            let last = i == layers.count - 1
            let src = r.staging[i]
            let dst = last ? r.frames + s.pointee.count * conv.outChannels
                           : r.staging[i + 1] + r.stagingCounts[i + 1] * conv.outChannels
            _ = encoder.convLayer(i, src, rows: (outputs - 1) * conv.stride + conv.kernel, into: dst, arena: &arena) { y, n, gamma, beta in
                runningChannelNorm(y, rows: n, cols: conv.outChannels, gamma: gamma, beta: beta)
            }
            if last { s.pointee.count += outputs } else { r.stagingCounts[i + 1] += outputs }
            let consumed = outputs * conv.stride
            UnsafeMutableRawPointer(src).copyMemory(from: src + consumed * conv.inChannels,
                                                    byteCount: (available - consumed) * conv.inChannels * 4)
            r.stagingCounts[i] = available - consumed
        }
    }

    /// wav2vec 2.0's first GroupNorm normalises each channel over the whole utterance; a stream
    /// uses the statistics of every frame so far (these rows included).
    private func runningChannelNorm(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>) {
        let s = state
        let sum = r.channelStats, sumSq = r.channelStats + cols
        if !s.pointee.statisticsFrozen {
            for row in 0..<rows {
                let p = x + row * cols
                for c in 0..<cols { let v = Double(p[c]); sum[c] += v; sumSq[c] += v * v }
            }
            s.pointee.channelFrames += Double(rows)
        }
        let n = s.pointee.channelFrames
        let eps = Double(encoder.config.layer_norm_eps)
        for c in 0..<cols {
            let mean = sum[c] / n
            let inv = 1 / (max(0, sumSq[c] / n - mean * mean) + eps).squareRoot()
            let scale = Float(inv) * gamma[c], shift = beta[c] - Float(mean * inv) * gamma[c]
            for row in 0..<rows { x[row * cols + c] = x[row * cols + c] * scale + shift }
        }
    }

    /// Tests only: fixed input and first-layer GroupNorm statistics (e.g. the whole utterance's).
    func freezeStatistics(inputMean: Double, inputVariance: Double, channelMeans: [Double], channelVariances: [Double]) {
        let s = state
        s.pointee.statisticsFrozen = true
        s.pointee.inputSamples = 1
        s.pointee.inputSum = inputMean
        s.pointee.inputSumSq = inputVariance + inputMean * inputMean
        s.pointee.channelFrames = 1
        let c = channelMeans.count
        for i in 0..<c {
            r.channelStats[i] = channelMeans[i]
            r.channelStats[c + i] = channelVariances[i] + channelMeans[i] * channelMeans[i]
        }
    }
}

extension IncrementalCNN {
    /// Why the CNN section `s` of a restored state (at `raw`, laid out like the live buffer at
    /// `live`) cannot be this stream's, or nil. `oldestNeeded` is the oldest CNN frame the next
    /// hop reads: it must still be held.
    func problem(_ s: State, _ raw: UntrustedState, live: UnsafeRawPointer, oldestNeeded: Int) -> String? {
        func offset<T>(_ p: UnsafeMutablePointer<T>) -> Int { UnsafeRawPointer(p) - live }
        guard (0...maxStreamCounter).contains(s.base), (0...r.frameCapacity).contains(s.count) else {
            return "CNN frame counters out of range (first \(s.base), \(s.count) held of \(r.frameCapacity))"
        }
        guard s.base <= oldestNeeded else { return "CNN frames from \(oldestNeeded) on are needed but the state starts at \(s.base)" }
        // Statistics: finite, of plausible size (the input is in [-1, 1] before resampling's ripple),
        // and never empty once frozen (they divide).
        guard s.inputSum.isFinite, s.inputSumSq.isFinite, s.inputSamples.isFinite, s.channelFrames.isFinite, s.inputSamples >= 0, s.channelFrames >= 0,
              s.inputSamples <= Double(maxStreamCounter), s.channelFrames <= Double(maxStreamCounter),
              abs(s.inputSum) <= 4 * s.inputSamples, s.inputSumSq >= 0, s.inputSumSq <= 16 * s.inputSamples,
              !s.statisticsFrozen || (s.inputSamples > 0 && s.channelFrames > 0) else {
            return "CNN normalisation statistics are inconsistent"
        }
        let c0 = encoder.config.conv_dim[0]
        let stats = offset(r.channelStats)
        guard raw.allFinite(doublesAt: stats, count: 2 * c0) else { return "CNN channel statistics are not finite" }
        for ch in 0..<c0 where raw.double(stats + 8 * (c0 + ch)) < 0 || raw.double(stats + 8 * (c0 + ch)) > 1e200 {
            return "CNN channel statistics are out of range"
        }
        var inCh = 1
        for (i, layer) in encoder.convLayers.enumerated() {
            // Every complete output is consumed as soon as it can be: fewer rows than the kernel remain.
            let held = raw.int(offset(r.stagingCounts) + 8 * i)
            guard (0..<layer.conv.kernel).contains(held) else { return "CNN layer \(i) holds \(held) input rows (at most \(layer.conv.kernel - 1))" }
            if let j = raw.firstNonFinite(floatsAt: offset(r.staging[i]), count: held * inCh) { return "CNN layer \(i) input value \(j) is out of range" }
            inCh = layer.conv.outChannels
        }
        if let j = raw.firstNonFinite(floatsAt: offset(r.frames), count: s.count * channels) { return "CNN frame value \(j) is out of range" }
        return nil
    }
}
