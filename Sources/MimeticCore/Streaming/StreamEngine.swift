/// One character's streaming animation: audio in as it arrives, vertex offsets out per frame.
///
/// The data's path, one part each, all state in one caller-visible buffer (`StreamLayout`):
///
///     push ─ StreamInput (repair, resample to 16 kHz, buffer)                 on the audio thread
///     process, inside framesReady / pull, on the caller's thread:
///       wav2vec 2.0:    IncrementalCNN ─ WindowEncoder (a hop at a time) ─┐
///       real-time:      RealtimeEncoderStream (a frame at a time) ────────┴─ FrameDecoder ─ FrameQueue
///     pull ─ FrameQueue
///
/// The decoder is the offline one, step for step. Not thread-safe: one thread at a time (the C
/// header's contract). Nothing after `init` allocates or locks.
public final class StreamEngine: @unchecked Sendable {
    public let model: MimeticModel
    public let params: StreamParams
    let layout: StreamLayout
    public let base: UnsafeMutableRawPointer
    public let byteCount: Int
    private let ownsBuffer: Bool
    let input: StreamInput
    let queue: FrameQueue
    /// Exactly one of the two encoder paths is set.
    let cnn: IncrementalCNN?
    let windows: WindowEncoder?
    let realtime: RealtimeEncoderStream?
    /// Set while a `processBatch` call holds the stream (a stream may appear in a batch once).
    var inBatch = false

    /// Bytes a stream with these params needs.
    public static func stateSize(model: MimeticModel, params: StreamParams) throws -> Int {
        try params.validate()
        try checkStreamable(model)
        let r = ResamplerKernel(inputRate: params.sampleRate, outputRate: model.config.sample_rate)
        let layout = StreamLayout(model: model, params: params, resampler: r)
        try checkQueue(layout, params)
        return layout.totalBytes
    }

    /// What the streaming engine assumes of a model beyond what offline animation needs: a
    /// wav2vec 2.0 CNN at 50 Hz (total stride 320, as every wav2vec 2.0 model has), whose layers
    /// read every input (kernel ≥ stride). The window arithmetic and the buffer planning rest on it.
    static func checkStreamable(_ model: MimeticModel) throws {
        guard let e = model.config.wav2vec2 else { return }
        let total = e.conv_stride.reduce(1) { $0 * $1 }
        guard total == 320, zip(e.conv_kernel, e.conv_stride).allSatisfy({ $0 >= $1 }) else {
            throw MimeticError.unsupported("this model's CNN (conv_stride \(e.conv_stride), conv_kernel \(e.conv_kernel)) cannot stream: streams need a 50 Hz CNN (strides multiplying to 320, as wav2vec 2.0's) whose kernels are no smaller than their strides; offline animation works")
        }
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
        try Self.checkStreamable(model)
        guard style.count == model.config.decoder.d_model, style.allSatisfy({ $0.isFinite }) else {
            throw MimeticError.invalidArgument("style vector must have \(model.config.decoder.d_model) finite values")
        }
        self.model = model
        self.params = params
        let resampler = ResamplerKernel(inputRate: params.sampleRate, outputRate: model.config.sample_rate)
        let layout = StreamLayout(model: model, params: params, resampler: resampler)
        self.layout = layout
        try Self.checkQueue(layout, params)
        let base: UnsafeMutableRawPointer
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
        self.base = base
        byteCount = layout.totalBytes
        base.initializeMemory(as: UInt8.self, repeating: 0, count: layout.totalBytes)
        (input, queue, cnn, windows, realtime) = Self.parts(model: model, params: params, layout: layout, resampler: resampler, base: base)
        style.withUnsafeBufferPointer { model.frameDecoder.begin(decoderState, style: $0.baseAddress!, initialOffsets: nil) }
        resetState()
        _ = (Self.checksumOffset, Self.flagOffsets)   // initialised here, not on the first (real-time) restore
    }

    deinit { if ownsBuffer { base.deallocate() } }

    // MARK: Regions

    var header: UnsafeMutablePointer<StreamHeader> { (base + layout.header).assumingMemoryBound(to: StreamHeader.self) }
    func floats(_ offset: Int) -> UnsafeMutablePointer<Float> { (base + offset).assumingMemoryBound(to: Float.self) }
    var decoderState: UnsafeMutablePointer<Float> { floats(layout.decoderState) }
    var basisDelta: UnsafePointer<Float>? { header.pointee.basisDeltaActive ? UnsafePointer(floats(layout.basisDelta)) : nil }

    /// Forgets audio and frames; keeps the style and the persona's basis change.
    private func resetState() {
        let h = header
        let keepBasis = h.pointee.magic == StreamHeader.magicValue && h.pointee.basisDeltaActive
        h.pointee.magic = StreamHeader.magicValue
        h.pointee.layoutHash = layout.hash
        h.pointee.checksum = 0
        h.pointee.framesDecoded = 0
        h.pointee.faulted = false
        h.pointee.encoderSeconds = 0
        h.pointee.decoderSeconds = 0
        input.reset()
        queue.reset()
        cnn?.reset()
        realtime?.reset()
        model.frameDecoder.begin(decoderState, style: decoderState + model.frameDecoder.layout.style, initialOffsets: nil)
        h.pointee.basisDeltaActive = keepBasis
    }

    /// Worst-case delay between the end of a frame's audio and the frame being ready, when audio
    /// arrives in real time: the hop, the lookahead, the CNN's chunk and receptive field, the frames
    /// the alignment needs beyond the frame itself, and the resampler's look-ahead.
    /// For the real-time encoder: the encoder's own lookahead (or the rest of the frame's
    /// interval, if longer) and the resampler's look-ahead; the lookahead, hop and left-context
    /// params do not apply.
    public var algorithmicLatency: Double {
        let resamplerDelay = Double(input.resampler?.latency ?? 0) / Double(params.sampleRate)
        if let rt = model.realtime { return rt.streamDelaySamples / 16000 + resamplerDelay }
        return Double(params.hopMs + params.lookaheadMs) / 1000 + Double(layout.chunkSamples + 400) / 16000
            + Double(model.alignment.latencyCNNFrames) * 0.02 + resamplerDelay
    }

    // MARK: Audio in

    /// Appends samples at `params.sampleRate`. Cheap: sanitising, resampling and buffering only.
    public func push(_ samples: UnsafePointer<Float>, count n: Int) throws {
        try checkPush(n)
        guard n > 0 else { return }
        try input.check(samples, count: n)
        try ensureRoom(forInput: n)
        input.append(samples, count: n)
    }

    /// 16-bit PCM (full scale 32768).
    public func push(int16 samples: UnsafePointer<Int16>, count n: Int) throws {
        try checkPush(n)
        guard n > 0 else { return }
        try ensureRoom(forInput: n)
        input.append(int16: samples, count: n)
    }

    private func checkPush(_ n: Int) throws {
        guard !input.flushed else { throw MimeticError.wrongState("push after flush: call reset to start a new utterance") }
    }

    private func ensureRoom(forInput n: Int) throws {
        let need = input.growth(forInput: n)
        guard need > input.free else { return }
        process()   // make room by running the encoder before refusing
        guard need <= input.free else {
            throw MimeticError.bufferTooSmall("stream audio buffer full (\(input.free) of \(input.capacity) samples free, \(need) needed): pull frames, or create the stream with a larger max_queued_frames")
        }
    }

    /// End of utterance: every remaining frame becomes computable.
    public func flush() throws {
        guard !input.flushed else { return }
        if input.pendingAtFlush > input.free { process() }
        guard input.pendingAtFlush <= input.free else {
            throw MimeticError.bufferTooSmall("stream audio buffer full: pull frames before flushing")
        }
        input.finish()
    }

    /// Forgets audio and frames; keeps the style.
    public func reset() { resetState() }

    // MARK: Frames out

    /// Runs pending work; frames that can be pulled now.
    public func framesReady() -> Int {
        process()
        return queue.count
    }

    /// Pops the oldest frame into `offsets` (outputSize floats). Returns nil when none is ready.
    public func pull(into offsets: UnsafeMutablePointer<Float>, capacity: Int) throws -> StreamFrameInfo? {
        guard capacity >= layout.outputSize else {
            throw MimeticError.bufferTooSmall("frame buffer holds \(capacity) floats; a frame has \(layout.outputSize) (3 x \(layout.outputSize / 3) vertices)")
        }
        process()
        guard !header.pointee.faulted else {
            throw MimeticError.invalidModel("a frame came out non-finite: the model's weights overflow float32 arithmetic (a corrupt or hostile model file); reset the stream")
        }
        guard let r = queue.pop(into: offsets) else { return nil }
        return StreamFrameInfo(frameIndex: r.frameIndex, timestampSeconds: Double(r.frameIndex) / Double(layout.fps),
                               timestampSamples: r.frameIndex * params.sampleRate / layout.fps,
                               latencySeconds: r.latency, isFinal: r.isFinal)
    }

    /// The utterance is over: flushed, and every one of its frames pulled.
    public var isComplete: Bool {
        guard input.flushed else { return false }
        process()
        guard queue.count == 0 else { return false }
        let total = realtime.map { $0.framesAvailable(input) } ?? (cnn!.isComplete(input) ? model.alignment.motionFrames(cnnFrames: cnn!.state.pointee.total) : Int.max)
        return header.pointee.framesDecoded >= total
    }

    public var stats: StreamStats {
        let h = header.pointee
        return StreamStats(samplesPushed: h.input.samplesPushed, framesEmitted: h.queue.pulled, samplesRepaired: h.input.repaired,
                           encoderSeconds: h.encoderSeconds, decoderSeconds: h.decoderSeconds)
    }

    // MARK: Processing

    /// Runs the encoder on buffered audio and decodes every frame that is ready and fits in the queue.
    func process() {
        if let realtime { processRealtime(realtime) } else { processWindows(cnn!, windows!) }
    }

    private func processWindows(_ cnn: IncrementalCNN, _ windows: WindowEncoder) {
        let h = header
        while true {
            let start = cpuSeconds()
            cnn.dropFrames(before: windows.oldestCNNFrame(forFrame: h.pointee.framesDecoded))
            cnn.run(input)
            h.pointee.encoderSeconds += cpuSeconds() - start
            // The next hop, if its audio is in (or the utterance is complete) and the queue has room.
            let complete = cnn.isComplete(input)
            let first = h.pointee.framesDecoded
            var count = windows.hopFrames
            var total = Int.max
            if complete {
                total = model.alignment.motionFrames(cnnFrames: cnn.state.pointee.total)
                guard first < total else { return }
                count = min(count, total - first)
            }
            guard queue.hasRoom(for: count) else { return }
            guard complete || cnn.state.pointee.total >= windows.cnnFramesNeeded(throughFrame: first + count - 1) else { return }
            let mid = cpuSeconds()
            let features = windows.encode(firstFrame: first, count: count, cnn: cnn, complete: complete)
            h.pointee.encoderSeconds += cpuSeconds() - mid
            let rowsPerFrame = model.keysPerFrame * model.config.decoder.d_model
            for k in first..<(first + count) {
                decodeFrame(k, audio: features + (k - first) * rowsPerFrame, isFinal: complete && k == total - 1, isOnly: complete && total == 1)
            }
        }
    }

    private func processRealtime(_ rt: RealtimeEncoderStream) {
        while let next = nextRealtimeFrame(rt) {
            decodeFrame(next.index, audio: next.features, isFinal: next.isFinal, isOnly: next.isFinal && next.index == 0)
        }
        finishRealtime(rt)
    }

    /// The next frame a real-time stream can compute now, encoded: its index, its audio features
    /// (valid until the next frame) and whether it is the utterance's last; nil when its audio is
    /// not in yet or the queue is full.
    func nextRealtimeFrame(_ rt: RealtimeEncoderStream) -> (index: Int, features: UnsafePointer<Float>, isFinal: Bool)? {
        guard let t = nextRealtimeIndex(rt) else { return nil }
        let start = cpuSeconds()
        let features = rt.encode(frame: t, input)
        header.pointee.encoderSeconds += cpuSeconds() - start
        return (t, UnsafePointer(features), isFinalRealtimeFrame(t, rt))
    }

    /// The index of the next frame a real-time stream can compute now; nil when its audio is not
    /// in yet or the queue is full.
    func nextRealtimeIndex(_ rt: RealtimeEncoderStream) -> Int? {
        guard !queue.isFull else { return nil }
        let t = header.pointee.framesDecoded
        return rt.canEncode(frame: t, input) ? t : nil
    }

    /// Whether frame t is the utterance's last (known once the stream is flushed).
    func isFinalRealtimeFrame(_ t: Int, _ rt: RealtimeEncoderStream) -> Bool { input.flushed && t == rt.framesAvailable(input) - 1 }

    /// After a real-time stream's frames: once flushed, the newest frame is the utterance's last
    /// (a real-time stream may have computed it before the flush: its lookahead was in); audio
    /// no longer needed is dropped.
    func finishRealtime(_ rt: RealtimeEncoderStream) {
        if input.flushed { queue.markFinal(frameIndex: rt.framesAvailable(input) - 1) }
        rt.trim(input)
    }

    /// Decodes motion frame `k` from its audio features into the queue.
    private func decodeFrame(_ k: Int, audio: UnsafePointer<Float>, isFinal: Bool, isOnly: Bool) {
        let start = cpuSeconds()
        let a = decodeUpToHead(k, audio: audio, isOnly: isOnly)
        let fd = model.frameDecoder
        let out = queue.nextSlot
        fd.applyBasis(a, into: out)
        if let basisDelta { fd.addBasisDelta(basisDelta, headInput: a, into: out) }
        commitFrame(k, isFinal: isFinal, decodeSeconds: cpuSeconds() - start)
    }

    /// Runs the decoder for frame `k` up to the motion head; returns the head's input (valid until
    /// the next frame). The offsets are then motionOut(input) into `queue.nextSlot`, and `commitFrame`.
    func decodeUpToHead(_ k: Int, audio: UnsafePointer<Float>, isOnly: Bool) -> UnsafePointer<Float> {
        let fd = model.frameDecoder
        fd.decode(decoderState, position: k, audio: audio, offsets: nil)
        if isOnly { fd.finishSingleFrameUtterance(decoderState, offsets: nil) }
        return fd.headInput(decoderState, hidden: fd.hidden(decoderState))
    }

    /// Queues the frame whose offsets are at `queue.nextSlot`: a non-finite frame faults the
    /// stream (zeros queued), the record, the counters.
    func commitFrame(_ k: Int, isFinal: Bool, decodeSeconds: Double) {
        let h = header
        let out = queue.nextSlot
        if !Vec.allFinite(out, count: layout.outputSize) {
            h.pointee.faulted = true
            out.update(repeating: 0, count: layout.outputSize)
        }
        let latency = Double(h.pointee.input.samplesPushed) / Double(params.sampleRate) - Double(k) / Double(layout.fps)
        queue.append(FrameQueue.Record(frameIndex: k, latency: latency, isFinal: isFinal))
        h.pointee.framesDecoded = k + 1
        h.pointee.decoderSeconds += decodeSeconds
    }

    func cpuSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }
}
