import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One character's streaming animation: audio in as it arrives, vertex offsets out per frame.
///
/// Pipeline, with all state in one caller-visible buffer (`StreamLayout`):
///   push: sanitise → resample to 16 kHz → audio buffer                     (cheap, on the audio thread)
///   process (inside framesReady/pull, on the caller's thread):
///     CNN, incrementally: each conv layer keeps the tail of its input (cached rows), the input
///       normalisation and wav2vec 2.0's first-layer GroupNorm use running statistics;
///     every hop: the transformer over [left context | hop | lookahead] of CNN frames, the frames of
///       the hop mapped to the motion rate, the audio map, then the exact incremental decoder.
/// The decoder is the offline one step for step; the encoder differs from offline only through
/// its window (bidirectional attention and the ±64-frame positional conv see less) and the running
/// statistics: docs/streaming.md measures that difference.
///
/// Not thread-safe: one thread at a time (the C header's contract). Nothing after `init`
/// allocates or locks.
public final class StreamEngine: @unchecked Sendable {
    public let model: MimeticModel
    public let params: StreamParams
    let layout: StreamLayout
    let resampler: ResamplerKernel?
    public let base: UnsafeMutableRawPointer
    public let byteCount: Int
    private let ownsBuffer: Bool
    private let ds: Conv1d?

    /// Bytes a stream with these params needs.
    public static func stateSize(model: MimeticModel, params: StreamParams) throws -> Int {
        try params.validate()
        let r = ResamplerKernel(inputRate: params.sampleRate, outputRate: model.config.sample_rate)
        let layout = StreamLayout(model: model, params: params, resampler: r)
        try checkQueue(layout, params)
        return layout.totalBytes
    }

    /// A hop decodes `hopFrames` at once into the queue, so the queue must hold at least that many.
    private static func checkQueue(_ layout: StreamLayout, _ params: StreamParams) throws {
        guard params.maxQueuedFrames >= layout.hopFrames else {
            throw MimeticError.invalidArgument("stream params: max_queued_frames \(params.maxQueuedFrames) is smaller than one hop (\(layout.hopFrames) frames for hop_ms \(params.hopMs) at \(layout.fps) fps): use at least \(layout.hopFrames)")
        }
    }

    /// - Parameters:
    ///   - style: the style vector (`MimeticModel.styleVector`).
    ///   - buffer: caller memory of at least `stateSize` bytes, 64-byte aligned, used in place; nil
    ///     allocates.
    public init(model: MimeticModel, params: StreamParams, style: [Float], buffer: UnsafeMutableRawPointer? = nil,
                bytes: Int = 0) throws {
        try params.validate()
        guard style.count == model.config.decoder.d_model, style.allSatisfy({ $0.isFinite }) else {
            throw MimeticError.invalidArgument("style vector must have \(model.config.decoder.d_model) finite values")
        }
        self.model = model
        self.params = params
        resampler = ResamplerKernel(inputRate: params.sampleRate, outputRate: model.config.sample_rate)
        layout = StreamLayout(model: model, params: params, resampler: resampler)
        try Self.checkQueue(layout, params)
        ds = model.downsample?.withPadding(0)
        if let buffer {
            guard bytes >= layout.totalBytes else {
                throw MimeticError.invalidArgument("state buffer has \(bytes) bytes; this stream needs \(layout.totalBytes)")
            }
            guard Int(bitPattern: buffer) % 64 == 0 else {
                throw MimeticError.invalidArgument("state buffer must be 64-byte aligned")
            }
            base = buffer
            ownsBuffer = false
        } else {
            base = UnsafeMutableRawPointer.allocate(byteCount: layout.totalBytes, alignment: 64)
            ownsBuffer = true
        }
        byteCount = layout.totalBytes
        base.initializeMemory(as: UInt8.self, repeating: 0, count: layout.totalBytes)
        style.withUnsafeBufferPointer { model.frameDecoder.begin(decoderState, style: $0.baseAddress!, initialOffsets: nil) }
        resetCounters()
    }

    deinit { if ownsBuffer { base.deallocate() } }

    /// Worst-case delay between the end of a frame's audio and the frame being ready, when audio
    /// arrives in real time: the hop, the lookahead, the CNN's chunk and receptive field, the frames
    /// the alignment needs beyond the frame itself, and the resampler's look-ahead.
    /// For the real-time encoder: the encoder's own lookahead (or the rest of the frame's
    /// interval, if longer) and the resampler's look-ahead; the lookahead, hop and left-context
    /// params do not apply.
    public var algorithmicLatency: Double {
        let resamplerDelay = Double(resampler?.latency ?? 0) / Double(params.sampleRate)
        if let rt = model.realtime { return rt.streamDelaySamples / 16000 + resamplerDelay }
        let extra50: Double
        switch model.config.alignment.mode {
        case .interpolate: extra50 = 2
        case .pairs: extra50 = 2
        case .conv, .native: extra50 = 8
        }
        return Double(params.hopMs + params.lookaheadMs) / 1000 + Double(layout.chunkSamples + 400) / 16000
            + extra50 * 0.02 + resamplerDelay
    }

    // MARK: Regions

    /// The wav2vec 2.0 encoder (the hop-window path runs only for wav2vec 2.0 models).
    private var w2v: Wav2Vec2Encoder { model.wav2vec! }
    var header: UnsafeMutablePointer<StreamHeader> { (base + layout.header).assumingMemoryBound(to: StreamHeader.self) }
    func floats(_ offset: Int) -> UnsafeMutablePointer<Float> { (base + offset).assumingMemoryBound(to: Float.self) }
    private var stagingCounts: UnsafeMutablePointer<Int> { (base + layout.stagingCounts).assumingMemoryBound(to: Int.self) }
    private var gnStats: UnsafeMutablePointer<Double> { (base + layout.gnStats).assumingMemoryBound(to: Double.self) }
    var decoderState: UnsafeMutablePointer<Float> { floats(layout.decoderState) }
    var records: UnsafeMutablePointer<FrameRecord> { (base + layout.queueRecords).assumingMemoryBound(to: FrameRecord.self) }

    private func resetCounters() {
        let h = header
        let keepBasis = h.pointee.magic == StreamHeader.magicValue && h.pointee.basisDeltaActive
        h.pointee = StreamHeader(magic: StreamHeader.magicValue, layoutHash: layout.hash, flushed: false, samplesPushed: 0,
                                 audioCount: 0, inputSum: 0, inputSumSq: 0, inputSamples: 0, gnFrames: 0, cnnBase: 0, cnnCount: 0,
                                 framesEncoded: 0, queueHead: 0, queueCount: 0, framesPulled: 0, repaired: 0,
                                 encoderSeconds: 0, decoderSeconds: 0, resampler: .init(), resamplerFlushed: false,
                                 statisticsFrozen: false, basisDeltaActive: false, rtAudioBase: 0, rtMelFrames: 0)
        for i in 0..<layout.stagingCapacity.count { stagingCounts[i] = 0 }
        if let w = model.wav2vec { gnStats.update(repeating: 0, count: 2 * w.config.conv_dim[0]) }
        if model.realtime != nil { resetRealtime() }
        if let r = resampler { r.reset(&h.pointee.resampler, history: floats(layout.resamplerHistory)) }
        model.frameDecoder.begin(decoderState, style: decoderState + model.frameDecoder.layout.style, initialOffsets: nil)
        h.pointee.basisDeltaActive = keepBasis
    }

    /// Switches to a persona: its style and, for an adapted Imitator persona, its motion basis
    /// (which needs a stream created with `reserveBasisDelta`). Applies from the next frame.
    public func setPersona(_ persona: Persona) throws {
        guard persona.modelFingerprint == model.fingerprint else {
            throw MimeticError.invalidArgument("persona made for model \(persona.modelFingerprint), not this stream's model (\(model.fingerprint))")
        }
        if let w = persona.basisWeightDelta, let b = persona.basisBiasDelta {
            guard layout.basisDelta >= 0 else {
                throw MimeticError.invalidArgument("this persona changes the motion basis: create the stream with room for it (reserve_persona_basis, or the persona in its params)")
            }
            let dst = floats(layout.basisDelta)
            w.withUnsafeBufferPointer { dst.update(from: $0.baseAddress!, count: w.count) }
            b.withUnsafeBufferPointer { (dst + w.count).update(from: $0.baseAddress!, count: b.count) }
            header.pointee.basisDeltaActive = true
        } else {
            header.pointee.basisDeltaActive = false
        }
        try persona.style.withUnsafeBufferPointer { try setStyle($0.baseAddress!, count: $0.count) }
    }

    // MARK: Audio in

    /// Appends samples at `params.sampleRate`. Cheap: sanitising, resampling and buffering only.
    public func push(_ samples: UnsafePointer<Float>, count n: Int) throws {
        let h = header
        guard !h.pointee.flushed else {
            throw MimeticError.wrongState("push after flush: call reset to start a new utterance")
        }
        guard n > 0 else { return }
        if params.samplePolicy == .reject {
            for i in 0..<n where !samples[i].isFinite {
                throw MimeticError.invalidAudio("sample \(i) of the chunk is \(samples[i]); the stream rejects non-finite samples (policy reject), nothing was consumed")
            }
        }
        try ensureRoom(forInput: n)
        let scratch = floats(layout.inputScratch)
        var done = 0
        while done < n {
            let m = min(StreamLayout.inputScratchFloats, n - done)
            var repaired = 0
            for i in 0..<m {
                let x = samples[done + i]
                if x.isNaN { scratch[i] = 0; repaired += 1 }
                else if x > 1 { scratch[i] = 1; repaired += 1 }
                else if x < -1 { scratch[i] = -1; repaired += 1 }
                else { scratch[i] = x }
            }
            h.pointee.repaired += repaired
            append16k(scratch, count: m)
            done += m
        }
        h.pointee.samplesPushed += n
    }

    /// 16-bit PCM (full scale 32768).
    public func push(int16 samples: UnsafePointer<Int16>, count n: Int) throws {
        let h = header
        guard !h.pointee.flushed else {
            throw MimeticError.wrongState("push after flush: call reset to start a new utterance")
        }
        guard n > 0 else { return }
        try ensureRoom(forInput: n)
        let scratch = floats(layout.inputScratch)
        var done = 0
        while done < n {
            let m = min(StreamLayout.inputScratchFloats, n - done)
            for i in 0..<m { scratch[i] = Float(samples[done + i]) / 32768 }
            append16k(scratch, count: m)
            done += m
        }
        h.pointee.samplesPushed += n
    }

    private func ensureRoom(forInput n: Int) throws {
        let need = resampler?.maxOutputCount(forInput: n) ?? n
        let free = layout.audioCapacity - header.pointee.audioCount
        if need > free {
            // Make room by running the CNN (and hops) before refusing.
            process()
            let free2 = layout.audioCapacity - header.pointee.audioCount
            guard need <= free2 else {
                throw MimeticError.bufferTooSmall("stream audio buffer full (\(free2) of \(layout.audioCapacity) samples free, \(need) needed): pull frames, or create the stream with a larger max_queued_frames")
            }
        }
    }

    private func append16k(_ x: UnsafePointer<Float>, count m: Int) {
        let h = header
        let dst = floats(layout.audio) + h.pointee.audioCount
        if let r = resampler {
            h.pointee.audioCount += r.process(&h.pointee.resampler, history: floats(layout.resamplerHistory), input: x, count: m,
                                              output: dst, limit: Int.max)
        } else {
            dst.update(from: x, count: m)
            h.pointee.audioCount += m
        }
    }

    // MARK: Frames out

    /// Runs pending work; frames that can be pulled now.
    public func framesReady() -> Int {
        process()
        return header.pointee.queueCount
    }

    /// Pops the oldest frame into `offsets` (outputSize floats). Returns nil when none is ready.
    public func pull(into offsets: UnsafeMutablePointer<Float>, capacity: Int) throws -> StreamFrameInfo? {
        guard capacity >= layout.outputSize else {
            throw MimeticError.bufferTooSmall("frame buffer holds \(capacity) floats; a frame has \(layout.outputSize) (3 x \(layout.outputSize / 3) vertices)")
        }
        process()
        let h = header
        guard h.pointee.queueCount > 0 else { return nil }
        let slot = h.pointee.queueHead
        offsets.update(from: floats(layout.queueOffsets) + slot * layout.outputSize, count: layout.outputSize)
        let r = records[slot]
        h.pointee.queueHead = (slot + 1) % layout.queueCapacity
        h.pointee.queueCount -= 1
        h.pointee.framesPulled += 1
        let t = Double(r.frameIndex) / Double(layout.fps)
        return StreamFrameInfo(frameIndex: r.frameIndex, timestampSeconds: t,
                               timestampSamples: r.frameIndex * params.sampleRate / layout.fps,
                               latencySeconds: r.latency, isFinal: r.isFinal)
    }

    /// End of utterance: every remaining frame becomes computable.
    public func flush() throws {
        let h = header
        guard !h.pointee.flushed else { return }
        if let r = resampler {
            let pending = r.pendingOutputCount(h.pointee.resampler)
            if pending > layout.audioCapacity - h.pointee.audioCount { process() }
            guard pending <= layout.audioCapacity - h.pointee.audioCount else {
                throw MimeticError.bufferTooSmall("stream audio buffer full: pull frames before flushing")
            }
            h.pointee.audioCount += r.flush(&h.pointee.resampler, history: floats(layout.resamplerHistory),
                                            output: floats(layout.audio) + h.pointee.audioCount)
        }
        h.pointee.flushed = true
    }

    /// Forgets audio and frames; keeps the style.
    public func reset() { resetCounters() }

    public func setStyle(_ style: UnsafePointer<Float>, count: Int) throws {
        guard count == model.config.decoder.d_model else {
            throw MimeticError.invalidArgument("style vector has \(count) values; this model's has \(model.config.decoder.d_model)")
        }
        for i in 0..<count where !style[i].isFinite { throw MimeticError.invalidArgument("style vector contains NaN or Inf") }
        model.frameDecoder.setStyle(decoderState, style: style)
    }

    /// One slot's style (no allocation: the blend is written straight into the stream's state).
    public func setStyleSlot(_ slot: Int) throws {
        let n = model.styleSlots
        guard (0..<n).contains(slot) else {
            throw MimeticError.invalidArgument("style slot \(slot) is out of range (the model has \(n) slots)")
        }
        let w = floats(layout.inputScratch)   // scratch: n ≤ its size is checked below
        guard n <= StreamLayout.inputScratchFloats else { throw MimeticError.unsupported("more than \(StreamLayout.inputScratchFloats) style slots") }
        w.update(repeating: 0, count: n)
        w[slot] = 1
        try setStyleWeights(w, count: n)
    }

    public func setStyleWeights(_ w: UnsafePointer<Float>, count n: Int) throws {
        let target = decoderState + model.frameDecoder.layout.head
        guard model.styleBlend(w, count: n, into: target) else {
            throw MimeticError.invalidArgument("style weights: \(n) given, the model has \(model.styleSlots) slots (and weights must be finite)")
        }
        model.frameDecoder.setStyle(decoderState, style: target)
    }

    public var stats: StreamStats {
        let h = header.pointee
        return StreamStats(samplesPushed: h.samplesPushed, framesEmitted: h.framesPulled, samplesRepaired: h.repaired,
                           encoderSeconds: h.encoderSeconds, decoderSeconds: h.decoderSeconds)
    }

    /// Copies the whole state out (a snapshot is the buffer itself: it holds no pointers).
    public func snapshot(into buffer: UnsafeMutableRawPointer, capacity: Int) throws {
        guard capacity >= byteCount else {
            throw MimeticError.bufferTooSmall("snapshot buffer has \(capacity) bytes; the stream state has \(byteCount)")
        }
        buffer.copyMemory(from: base, byteCount: byteCount)
    }

    public func restore(from buffer: UnsafeRawPointer, size: Int) throws {
        guard size == byteCount else {
            throw MimeticError.invalidArgument("snapshot has \(size) bytes; this stream's state has \(byteCount)")
        }
        let h = buffer.loadUnaligned(fromByteOffset: layout.header, as: UInt64.self)
        let hash = buffer.loadUnaligned(fromByteOffset: layout.header + 8, as: UInt64.self)
        guard h == StreamHeader.magicValue, hash == layout.hash else {
            throw MimeticError.invalidArgument("snapshot does not come from a stream of this model and params")
        }
        base.copyMemory(from: buffer, byteCount: byteCount)
    }

    /// Tests only: replaces the running input and first-layer GroupNorm statistics by fixed ones
    /// (e.g. the whole utterance's), isolating the window machinery from the statistics.
    func freezeStatistics(inputMean: Double, inputVariance: Double, channelMeans: [Double], channelVariances: [Double]) {
        let h = header
        h.pointee.statisticsFrozen = true
        h.pointee.inputSamples = 1
        h.pointee.inputSum = inputMean
        h.pointee.inputSumSq = inputVariance + inputMean * inputMean
        h.pointee.gnFrames = 1
        let c = channelMeans.count
        for i in 0..<c {
            gnStats[i] = channelMeans[i]
            gnStats[c + i] = channelVariances[i] + channelMeans[i] * channelMeans[i]
        }
    }

    // MARK: Processing

    /// Runs the CNN on buffered audio and decodes every hop that is ready and fits in the queue.
    func process() {
        if model.realtime != nil { return processRealtime() }
        while true {
            runCNN()
            guard encodeHop() else { break }
        }
    }

    /// Every CNN frame of the utterance exists: flushed, and no layer can produce another output.
    private var cnnComplete: Bool {
        guard header.pointee.flushed, header.pointee.audioCount == 0 else { return false }
        for (i, layer) in w2v.convLayers.enumerated() where stagingCounts[i] >= layer.conv.kernel { return false }
        return true
    }

    func cpuSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    /// Oldest CNN frame any future hop can read.
    private func oldestNeededCNNFrame() -> Int {
        let k0 = header.pointee.framesEncoded
        switch model.config.alignment.mode {
        case .interpolate: return max(0, Int((Double(k0) * 50 / Double(layout.fps)).rounded(.down)) - layout.left50 - 1)
        case .pairs: return max(0, 2 * k0 - layout.left50)
        case .conv, .native: return max(0, 2 * k0 - 7 - layout.left50)
        }
    }

    private func runCNN() {
        let start = cpuSeconds()
        let h = header
        let enc = w2v
        let layers = enc.convLayers
        var arena = Arena(base: floats(layout.convArena), capacity: layout.convArenaFloats)
        // Drop CNN frames no hop will read again.
        let drop = min(h.pointee.cnnCount, oldestNeededCNNFrame() - h.pointee.cnnBase)
        if drop > 0 {
            let c = enc.cnnChannels
            let p = floats(layout.cnn)
            UnsafeMutableRawPointer(p).copyMemory(from: p + drop * c, byteCount: (h.pointee.cnnCount - drop) * c * 4)
            h.pointee.cnnBase += drop
            h.pointee.cnnCount -= drop
        }
        // Whole chunks only (the last one may be short once flushed), each run through every layer
        // before the next: the running statistics then update at the same points however the audio
        // was pushed and whenever frames were pulled, so chunking never changes the output.
        while h.pointee.audioCount >= layout.chunkSamples || (h.pointee.flushed && h.pointee.audioCount > 0) {
            guard layout.cnnCapacity - h.pointee.cnnCount >= layout.chunkFrames else { break }
            let take = min(layout.chunkSamples, h.pointee.audioCount)
            let src = floats(layout.audio)
            if !h.pointee.statisticsFrozen {
                var sum = 0.0, sumSq = 0.0
                for i in 0..<take { let x = Double(src[i]); sum += x; sumSq += x * x }
                h.pointee.inputSum += sum
                h.pointee.inputSumSq += sumSq
                h.pointee.inputSamples += Double(take)
            }
            let mean = h.pointee.inputSum / h.pointee.inputSamples
            let variance = max(0, h.pointee.inputSumSq / h.pointee.inputSamples - mean * mean)
            let inv = 1 / (variance + enc.config.input_norm_eps).squareRoot()
            let dst = floats(layout.staging[0]) + stagingCounts[0]
            for i in 0..<take { dst[i] = Float((Double(src[i]) - mean) * inv) }
            stagingCounts[0] += take
            let rest = h.pointee.audioCount - take
            UnsafeMutableRawPointer(src).copyMemory(from: src + take, byteCount: rest * 4)
            h.pointee.audioCount = rest
            // Each conv layer: every output whose receptive field is complete.
            for (i, layer) in layers.enumerated() {
                let conv = layer.conv
                let available = stagingCounts[i]
                guard available >= conv.kernel else { continue }
                let outputs = (available - conv.kernel) / conv.stride + 1
                let last = i == layers.count - 1
                let src = floats(layout.staging[i])
                let dst = last ? floats(layout.cnn) + h.pointee.cnnCount * conv.outChannels
                               : floats(layout.staging[i + 1]) + stagingCounts[i + 1] * conv.outChannels
                conv.forward(src, rows: (outputs - 1) * conv.stride + conv.kernel, into: dst, arena: &arena)
                if let (g, b) = layer.norm {
                    if enc.config.feat_extract_norm == "group" && i == 0 {
                        runningChannelNorm(dst, rows: outputs, cols: conv.outChannels, gamma: g.pointer, beta: b.pointer)
                    } else {
                        Norm.layerNorm(dst, rows: outputs, cols: conv.outChannels, gamma: g.pointer, beta: b.pointer, eps: enc.config.layer_norm_eps)
                    }
                }
                Activations.gelu(dst, count: outputs * conv.outChannels)
                if last { h.pointee.cnnCount += outputs } else { stagingCounts[i + 1] += outputs }
                let consumed = outputs * conv.stride
                UnsafeMutableRawPointer(src).copyMemory(from: src + consumed * conv.inChannels,
                                                        byteCount: (available - consumed) * conv.inChannels * 4)
                stagingCounts[i] = available - consumed
            }
        }
        h.pointee.encoderSeconds += cpuSeconds() - start
    }

    /// wav2vec 2.0's first GroupNorm normalises each channel over the whole utterance; a stream
    /// uses the statistics of every frame so far (these rows included).
    private func runningChannelNorm(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>) {
        let h = header
        let sum = gnStats, sumSq = gnStats + cols
        if !h.pointee.statisticsFrozen {
            for r in 0..<rows {
                let row = x + r * cols
                for c in 0..<cols { let v = Double(row[c]); sum[c] += v; sumSq[c] += v * v }
            }
            h.pointee.gnFrames += Double(rows)
        }
        let n = h.pointee.gnFrames
        let eps = Double(w2v.config.layer_norm_eps)
        for c in 0..<cols {
            let mean = sum[c] / n
            let inv = 1 / (max(0, sumSq[c] / n - mean * mean) + eps).squareRoot()
            let scale = Float(inv) * gamma[c], shift = beta[c] - Float(mean * inv) * gamma[c]
            for r in 0..<rows { x[r * cols + c] = x[r * cols + c] * scale + shift }
        }
    }

    /// Motion frames of the whole utterance, known once flushed (offline's frame count).
    private func totalFrames() -> Int {
        let l = header.pointee.cnnTotal
        guard l > 0 else { return 0 }
        switch model.config.alignment.mode {
        case .interpolate: return Alignment.interpolatedFrames(cnnFrames: l, fps: layout.fps, offset: model.config.alignment.frames_offset ?? 0)
        case .pairs: return l / 2
        case .conv, .native: return (l + 1) / 2
        }
    }

    /// Encodes and decodes the next hop if its audio is in (or the stream is flushed) and the
    /// queue has room. Returns whether it did.
    private func encodeHop() -> Bool {
        let h = header
        let flushed = cnnComplete
        let k0 = h.pointee.framesEncoded
        var count = layout.hopFrames
        var total = Int.max
        if flushed {
            total = totalFrames()
            guard k0 < total else { return false }
            count = min(count, total - k0)
        }
        guard h.pointee.queueCount + count <= layout.queueCapacity else { return false }
        let k1 = k0 + count - 1
        let cnnTotal = h.pointee.cnnTotal
        let fps = Double(layout.fps)
        let c = model.config, enc = w2v
        let hd = c.encoder.hiddenSize, d = c.decoder.d_model, kpf = model.keysPerFrame
        let cIn = enc.cnnChannels
        let needEnd: Int
        switch c.alignment.mode {
        case .interpolate: needEnd = Int((Double(k1) * 50 / fps).rounded(.up)) + 1 + layout.look50
        case .pairs: needEnd = 2 * k1 + 2 + layout.look50
        case .conv, .native: needEnd = 2 * k1 + 8 + layout.look50
        }
        guard flushed || cnnTotal >= needEnd else { return false }
        let start = cpuSeconds()
        var arena = Arena(base: floats(layout.encoderArena), capacity: layout.encoderArenaFloats)
        let cnnRows = floats(layout.cnn)
        let base = h.pointee.cnnBase
        let features = arena.take(count * kpf * d)
        switch c.alignment.mode {
        case .interpolate:
            let j0 = max(0, Int((Double(k0) * 50 / fps).rounded(.down)) - layout.left50)
            let j1 = min(cnnTotal, needEnd)
            let m0 = Int((Double(j0) * fps / 50).rounded(.up))
            let m1 = max(k1, Int((Double(j1 - 1) * fps / 50).rounded(.down)))
            let rows = m1 - m0 + 1
            precondition(rows <= layout.maxWindowRows, "stream window of \(rows) rows exceeds the planned \(layout.maxWindowRows)")
            let aligned = arena.take(rows * cIn), projected = arena.take(rows * hd)
            let lastFrame = Double(j1 - 1)
            for r in 0..<rows {
                let p = min(Double(m0 + r) * 50 / fps, lastFrame)
                let i0 = Int(p), a = Float(p - Double(i0)), i1 = min(i0 + 1, j1 - 1)
                let r0 = cnnRows + (i0 - base) * cIn, r1 = cnnRows + (i1 - base) * cIn
                let out = aligned + r * cIn
                for j in 0..<cIn { out[j] = (1 - a) * r0[j] + a * r1[j] }
            }
            enc.projectForward(aligned, rows: rows, into: projected)
            enc.transformForward(projected, rows: rows, arena: &arena)
            model.audioMap.apply(projected + (k0 - m0) * hd, rows: count, ldx: hd, into: features, ldy: d)
        case .pairs:
            let j0 = max(0, 2 * k0 - layout.left50)
            let j1 = min(flushed ? cnnTotal - cnnTotal % 2 : cnnTotal, needEnd)
            let rows = j1 - j0
            precondition(rows <= layout.maxWindowRows, "stream window of \(rows) rows exceeds the planned \(layout.maxWindowRows)")
            let copy = arena.take(rows * cIn), projected = arena.take(rows * hd)
            copy.update(from: cnnRows + (j0 - base) * cIn, count: rows * cIn)
            enc.projectForward(copy, rows: rows, into: projected)
            enc.transformForward(projected, rows: rows, arena: &arena)
            model.audioMap.apply(projected + (2 * k0 - j0) * hd, rows: 2 * count, ldx: hd, into: features, ldy: d)
        case .conv, .native:
            let j0 = max(0, 2 * k0 - 7 - layout.left50)
            let j1 = min(cnnTotal, needEnd)
            let rows = j1 - j0
            let copy = arena.take(rows * cIn), projected = arena.take(rows * hd)
            copy.update(from: cnnRows + (j0 - base) * cIn, count: rows * cIn)
            enc.projectForward(copy, rows: rows, into: projected)
            enc.transformForward(projected, rows: rows, arena: &arena)
            // The stride-2 conv over encoder rows 2k−7 … 2k+7, zero outside the utterance.
            let dsRows = 2 * count + 13
            let dsIn = arena.take(dsRows * hd), dsOut = arena.take(count * hd)
            for r in 0..<dsRows {
                let g = 2 * k0 - 7 + r
                let dst = dsIn + r * hd
                if g >= j0 && g < j1 { dst.update(from: projected + (g - j0) * hd, count: hd) } else { dst.update(repeating: 0, count: hd) }
            }
            ds!.forward(dsIn, rows: dsRows, into: dsOut, arena: &arena)
            model.audioMap.apply(dsOut, rows: count, ldx: hd, into: features, ldy: d)
        }
        let mid = cpuSeconds()
        h.pointee.encoderSeconds += mid - start

        let fd = model.frameDecoder
        let state = decoderState
        let latencyBase = Double(h.pointee.samplesPushed) / Double(params.sampleRate)
        for k in k0...k1 {
            let slot = (h.pointee.queueHead + h.pointee.queueCount) % layout.queueCapacity
            let out = floats(layout.queueOffsets) + slot * layout.outputSize
            let delta: UnsafePointer<Float>? = h.pointee.basisDeltaActive ? UnsafePointer(floats(layout.basisDelta)) : nil
            fd.decode(state, position: k, audio: features + (k - k0) * kpf * d, offsets: out, basisDelta: delta)
            if flushed, total == 1, case .imitator(let im) = model.head, im.startToken == .style {
                fd.output(state, hidden: fd.firstFeature(state), into: out, basisDelta: delta)   // a one-frame utterance
            }
            records[slot] = FrameRecord(frameIndex: k, latency: latencyBase - Double(k) / fps, isFinal: flushed && k == total - 1)
            h.pointee.queueCount += 1
        }
        h.pointee.framesEncoded = k1 + 1
        h.pointee.decoderSeconds += cpuSeconds() - mid
        return true
    }
}
