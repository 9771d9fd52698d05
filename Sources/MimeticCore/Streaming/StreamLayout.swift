/// Plain data at the start of a stream's buffer: every counter of the stream. No pointers, so a
/// byte copy of the buffer is a complete, valid snapshot.
struct StreamHeader {
    var magic: UInt64
    var layoutHash: UInt64
    var flushed: Bool
    var samplesPushed: Int      // input-rate samples accepted
    var audioCount: Int         // 16 kHz samples waiting for the CNN
    var inputSum: Double        // running input normalisation: Σx, Σx², n
    var inputSumSq: Double
    var inputSamples: Double
    var gnFrames: Double        // frames in the running GroupNorm statistics
    var cnnBase: Int            // global index of the first CNN frame held
    var cnnCount: Int           // CNN frames held
    var framesEncoded: Int      // motion frames decoded so far (the next frame's index)
    var queueHead: Int
    var queueCount: Int
    var framesPulled: Int
    var repaired: Int
    var encoderSeconds: Double
    var decoderSeconds: Double
    var resampler: ResamplerKernel.State
    var resamplerFlushed: Bool
    /// Tests: normalisation statistics fixed to given values instead of running ones.
    var statisticsFrozen: Bool
    /// The basis-delta region holds a persona's motion-basis change in use.
    var basisDeltaActive: Bool
    /// Real-time encoder: global 16 kHz index of the first sample held in the audio buffer, and
    /// mel frames computed so far.
    var rtAudioBase: Int
    var rtMelFrames: Int

    var cnnTotal: Int { cnnBase + cnnCount }
    static let magicValue: UInt64 = 0x4D494D4554494331   // "MIMETIC1"
}

/// A finished frame's record in the output queue.
struct FrameRecord {
    var frameIndex: Int
    var latency: Double
    var isFinal: Bool
}

/// Where everything lives in a stream's buffer (byte offsets, 64-byte aligned), and the sizes
/// behind them. Computed from the model and the params alone, so a stream's size is known before
/// it exists.
struct StreamLayout {
    // Rates and windows.
    let fps: Int
    let hopFrames: Int
    let left50: Int       // CNN frames (50 Hz) of left context
    let look50: Int       // CNN frames of lookahead
    let chunkSamples: Int // 16 kHz samples fed to the CNN at a time
    // Capacities.
    let audioCapacity: Int
    let stagingCapacity: [Int]   // rows of each conv layer's input staging
    let chunkFrames: Int         // CNN frames one chunk can complete
    let cnnCapacity: Int
    let maxWindowRows: Int       // encoder rows per hop
    let encoderArenaFloats: Int
    let convArenaFloats: Int
    let queueCapacity: Int
    let outputSize: Int
    // Byte offsets.
    let header: Int
    let stagingCounts: Int
    let gnStats: Int
    let resamplerHistory: Int
    let inputScratch: Int
    let audio: Int
    let staging: [Int]
    let cnn: Int
    let convArena: Int
    let encoderArena: Int
    let decoderState: Int
    let queueOffsets: Int
    let queueRecords: Int
    let basisDelta: Int          // byte offset, or -1 when no room was reserved
    // Real-time encoder (empty / zero for wav2vec 2.0).
    let rtStaging: [Int]          // byte offsets of each layer's input rows
    let rtStagingRows: [Int]      // their capacities in rows
    let rtCounts: Int             // Int pairs per layer: rows held, outputs produced
    let rtWindow: Int             // one mel window of samples (floats)
    let rtFFT: Int                // front-end scratch (doubles)
    let rtRow: Int                // the newest encoder row (H floats) and its audio features (d floats)
    let rtArena: Int
    let rtArenaFloats: Int
    let totalBytes: Int

    static let inputScratchFloats = 256

    init(model m: MimeticModel, params p: StreamParams, resampler: ResamplerKernel?) {
        if let rt = m.realtime {
            self.init(realtime: rt, model: m, params: p, resampler: resampler)
        } else {
            self.init(wav2vec: m, params: p, resampler: resampler)
        }
    }

    private init(wav2vec m: MimeticModel, params p: StreamParams, resampler: ResamplerKernel?) {
        let c = m.config, e = c.wav2vec2!
        fps = c.fps
        hopFrames = max(1, Int((Double(p.hopMs) * Double(c.fps) / 1000).rounded()))
        left50 = (p.leftContextMs + 19) / 20
        look50 = (p.lookaheadMs + 19) / 20
        outputSize = c.outputSize
        queueCapacity = p.maxQueuedFrames
        rtStaging = []
        rtStagingRows = []

        // CNN staging, layer by layer, for a chunk of input samples (hop-sized, ≥ 0.16 s).
        // 40 ms: small enough to add little delay, large enough for efficient GEMMs (conv1 sees 128 rows).
        chunkSamples = 640
        var caps: [Int] = []
        var maxOut = 0
        var arena = 0
        for i in 0..<e.conv_dim.count {
            let k = e.conv_kernel[i], s = e.conv_stride[i]
            let cap = (i == 0 ? chunkSamples : maxOut) + k - 1
            caps.append(cap)
            arena = max(arena, m.wav2vec!.convLayers[i].conv.scratchFloats(rows: cap))
            maxOut = (cap - k) / s + 1
        }
        stagingCapacity = caps
        chunkFrames = maxOut
        convArenaFloats = arena + 64

        // Encoder window rows per hop (generous bounds, see StreamEngine.encodeHop).
        let hop50 = Int((Double(hopFrames) * 50 / Double(c.fps)).rounded(.up))
        let cnnWindow = left50 + hop50 + look50 + 24
        switch c.alignment.mode {
        case .interpolate: maxWindowRows = Int((Double(cnnWindow) * Double(c.fps) / 50).rounded(.up)) + hopFrames + 4
        case .pairs, .conv, .native: maxWindowRows = cnnWindow + 2 * hopFrames + 16
        }
        cnnCapacity = cnnWindow + hop50 + maxOut + 32
        let h = e.hidden_size, d = c.decoder.d_model, cIn = m.wav2vec!.cnnChannels
        var enc = Arena.rounded(maxWindowRows * max(cIn, h)) + Arena.rounded(maxWindowRows * h)
            + m.wav2vec!.transformScratchFloats(rows: maxWindowRows)
        if c.alignment.mode == .conv {
            let dsRows = 2 * hopFrames + 13
            enc += Arena.rounded(dsRows * h) + Arena.rounded(hopFrames * h)
                + (m.downsample?.withPadding(0).scratchFloats(rows: dsRows) ?? 0)
        }
        enc += Arena.rounded(hopFrames * m.keysPerFrame * d) + 64
        encoderArenaFloats = enc
        // Audio waiting for the CNN: what the queue can hold plus a hop, the lookahead and 1 s.
        audioCapacity = Int(Double(p.maxQueuedFrames + hopFrames) / Double(c.fps) * 16000) + (p.lookaheadMs + p.leftContextMs + 1000) * 16

        var at = 0
        func region(bytes: Int) -> Int { defer { at += (bytes + 63) & ~63 }; return at }
        func floats(_ n: Int) -> Int { region(bytes: n * 4) }
        header = region(bytes: MemoryLayout<StreamHeader>.stride)
        stagingCounts = region(bytes: 8 * e.conv_dim.count)
        gnStats = region(bytes: 16 * e.conv_dim[0])
        resamplerHistory = floats(resampler?.historyCapacity ?? 0)
        inputScratch = floats(Self.inputScratchFloats)
        audio = floats(audioCapacity)
        var staging: [Int] = []
        var inCh = 1
        for i in 0..<e.conv_dim.count {
            staging.append(floats(caps[i] * inCh))
            inCh = e.conv_dim[i]
        }
        self.staging = staging
        cnn = floats(cnnCapacity * cIn)
        convArena = floats(convArenaFloats)
        encoderArena = floats(encoderArenaFloats)
        decoderState = floats(m.frameDecoder.layout.floats)
        queueOffsets = floats(p.maxQueuedFrames * c.outputSize)
        queueRecords = region(bytes: p.maxQueuedFrames * MemoryLayout<FrameRecord>.stride)
        basisDelta = p.reserveBasisDelta && c.family == .imitator ? floats(c.outputSize * (c.decoder.d_model + 1)) : -1
        rtCounts = 0; rtWindow = 0; rtFFT = 0; rtRow = 0; rtArena = 0; rtArenaFloats = 0
        totalBytes = at
        hash = computeHash()
    }

    /// The real-time encoder's layout: no windows or hops, the encoder's own state instead (each
    /// layer's input tail, the audio from the next mel window's start, front-end scratch).
    private init(realtime rt: RealtimeEncoder, model m: MimeticModel, params p: StreamParams, resampler: ResamplerKernel?) {
        let c = m.config
        fps = c.fps
        hopFrames = 1
        left50 = 0
        look50 = 0
        chunkSamples = 0
        stagingCapacity = []
        chunkFrames = 0
        cnnCapacity = 0
        maxWindowRows = 0
        encoderArenaFloats = 0
        convArenaFloats = 0
        outputSize = c.outputSize
        queueCapacity = p.maxQueuedFrames
        // Rows each layer holds before computing frame t's outputs: its zero rows and first outputs
        // at t = 0, then (K − 1)·d + 1 + s·(increment − 1); the pattern is fixed from t = 1 on.
        var rows: [Int] = [], arena = 0
        for (i, l) in rt.layers.enumerated() {
            var most = 0
            for t in 0..<3 {
                let held = l.leftPad + rt.needed(layer: i - 1, frames: t + 1) - l.stride * rt.needed(layer: i, frames: t)
                most = max(most, held)
                arena = max(arena, l.scratchFloats(outputs: rt.needed(layer: i, frames: t + 1) - rt.needed(layer: i, frames: t)))
            }
            rows.append(most + 1)
        }
        rtStagingRows = rows
        rtArenaFloats = arena + 64
        // Audio waiting: what the queue can hold, the encoder's delay, a window and 1 s.
        audioCapacity = Int(Double(p.maxQueuedFrames + 2) / Double(c.fps) * 16000) + Int(rt.streamDelaySamples.rounded(.up))
            + rt.frontEnd.winLength + 16000

        var at = 0
        func region(bytes: Int) -> Int { defer { at += (bytes + 63) & ~63 }; return at }
        func floats(_ n: Int) -> Int { region(bytes: n * 4) }
        header = region(bytes: MemoryLayout<StreamHeader>.stride)
        stagingCounts = region(bytes: 0)
        gnStats = region(bytes: 0)
        resamplerHistory = floats(resampler?.historyCapacity ?? 0)
        inputScratch = floats(Self.inputScratchFloats)
        audio = floats(audioCapacity)
        staging = []
        cnn = region(bytes: 0)
        convArena = region(bytes: 0)
        encoderArena = region(bytes: 0)
        rtCounts = region(bytes: 16 * rt.layers.count)
        var offsets: [Int] = []
        for (i, l) in rt.layers.enumerated() { offsets.append(floats(rows[i] * l.inChannels)) }
        rtStaging = offsets
        rtWindow = floats(rt.frontEnd.winLength)
        rtFFT = region(bytes: 8 * rt.frontEnd.scratchDoubles)
        rtRow = floats(rt.hiddenSize + c.decoder.d_model)
        rtArena = floats(rtArenaFloats)
        decoderState = floats(m.frameDecoder.layout.floats)
        queueOffsets = floats(p.maxQueuedFrames * c.outputSize)
        queueRecords = region(bytes: p.maxQueuedFrames * MemoryLayout<FrameRecord>.stride)
        basisDelta = p.reserveBasisDelta && c.family == .imitator ? floats(c.outputSize * (c.decoder.d_model + 1)) : -1
        totalBytes = at
        hash = computeHash()
    }

    /// Identifies the layout (and so which snapshots fit): FNV-1a over the sizes. Stored, because
    /// reset and restore read it on real-time paths, where building the list below would allocate.
    private(set) var hash: UInt64 = 0

    private func computeHash() -> UInt64 {
        var h: UInt64 = 0xcbf29ce484222325
        for v in [fps, hopFrames, left50, look50, chunkSamples, audioCapacity, cnnCapacity, maxWindowRows, queueCapacity,
                  outputSize, totalBytes, MemoryLayout<StreamHeader>.stride] + stagingCapacity + rtStagingRows {
            h = (h ^ UInt64(bitPattern: Int64(v))) &* 0x100000001b3
        }
        return h
    }
}

extension Conv1d {
    /// The same convolution without implicit padding (the caller supplies the padded rows).
    func withPadding(_ p: Int) -> Conv1d {
        Conv1d(weight: weight, bias: bias, inChannels: inChannels, outChannels: outChannels, kernel: kernel, stride: stride,
               padding: p, groups: groups)
    }
}
