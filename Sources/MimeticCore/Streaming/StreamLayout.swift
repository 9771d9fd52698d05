/// Where everything lives in a stream's buffer (byte offsets, 64-byte aligned), and the sizes
/// behind them. Computed from the model and the params alone, so a stream's size is known before
/// it exists. The encoder-specific parts are planned in `StreamLayout+Wav2Vec2` and
/// `StreamLayout+Realtime`; regions an encoder does not use are empty.
struct StreamLayout {
    // Rates and windows.
    var fps = 0
    var hopFrames = 1
    var left50 = 0         // CNN frames (50 Hz) of left context
    var look50 = 0         // CNN frames of lookahead
    var chunkSamples = 0   // 16 kHz samples fed to the CNN at a time
    // Capacities.
    var audioCapacity = 0
    var stagingCapacity: [Int] = []   // rows of each conv layer's input staging
    var chunkFrames = 0               // CNN frames one chunk can complete
    var cnnCapacity = 0
    var maxWindowRows = 0             // encoder rows per hop
    var encoderArenaFloats = 0
    var convArenaFloats = 0
    var queueCapacity = 0
    var outputSize = 0
    // Byte offsets: common.
    var header = 0
    var resamplerHistory = 0
    var inputScratch = 0
    var audio = 0
    var decoderState = 0
    var queueOffsets = 0
    var queueRecords = 0
    var basisDelta = -1               // byte offset, or -1 when no room was reserved
    // Byte offsets: wav2vec 2.0.
    var stagingCounts = 0
    var gnStats = 0
    var staging: [Int] = []
    var cnn = 0
    var convArena = 0
    var encoderArena = 0
    // Real-time encoder.
    var rtStaging: [Int] = []         // byte offsets of each layer's input rows
    var rtStagingRows: [Int] = []     // their capacities in rows
    var rtCounts = 0                  // Int pairs per layer: rows held, outputs produced
    var rtWindow = 0                  // one mel window of samples (floats)
    var rtFFT = 0                     // front-end scratch (doubles)
    var rtRow = 0                     // the newest encoder row (H floats) and its audio features (d floats)
    var rtArena = 0
    var rtArenaFloats = 0
    var totalBytes = 0

    /// Identifies the layout (and so which snapshots fit): FNV-1a over the sizes. Stored, because
    /// reset and restore read it on real-time paths, where building the list would allocate.
    private(set) var hash: UInt64 = 0

    init(model m: MimeticModel, params p: StreamParams, resampler: ResamplerKernel?) {
        fps = m.config.fps
        outputSize = m.config.outputSize
        queueCapacity = p.maxQueuedFrames
        var plan = RegionPlan()
        if let rt = m.realtime {
            planRealtime(rt, model: m, params: p, resampler: resampler, &plan)
        } else {
            planWav2Vec2(model: m, params: p, resampler: resampler, &plan)
        }
        decoderState = plan.floats(m.frameDecoder.layout.floats)
        queueOffsets = plan.floats(p.maxQueuedFrames * outputSize)
        queueRecords = plan.bytes(p.maxQueuedFrames * MemoryLayout<FrameQueue.Record>.stride)
        basisDelta = p.reserveBasisDelta && m.family == .imitator ? plan.floats(outputSize * (m.config.decoder.d_model + 1)) : -1
        totalBytes = plan.end
        hash = computeHash()
    }

    /// The regions every stream has first: header, resampler history, input scratch, audio.
    mutating func planInput(resampler: ResamplerKernel?, _ plan: inout RegionPlan) {
        header = plan.bytes(MemoryLayout<StreamHeader>.stride)
        resamplerHistory = plan.floats(resampler?.historyCapacity ?? 0)
        inputScratch = plan.floats(StreamInput.scratchFloats)
        audio = plan.floats(audioCapacity)
    }

    private func computeHash() -> UInt64 {
        var h: UInt64 = 0xcbf29ce484222325
        for v in [fps, hopFrames, left50, look50, chunkSamples, audioCapacity, cnnCapacity, maxWindowRows, queueCapacity,
                  outputSize, totalBytes, MemoryLayout<StreamHeader>.stride] + stagingCapacity + rtStagingRows {
            h = (h ^ UInt64(bitPattern: Int64(v))) &* 0x100000001b3
        }
        return h
    }
}

/// Hands out consecutive 64-byte-aligned regions of a buffer being planned.
struct RegionPlan {
    private(set) var end = 0
    mutating func bytes(_ n: Int) -> Int { defer { end += (n + 63) & ~63 }; return end }
    mutating func floats(_ n: Int) -> Int { bytes(n * 4) }
}

extension Conv1d {
    /// The same convolution without implicit padding (the caller supplies the padded rows).
    func withPadding(_ p: Int) -> Conv1d {
        Conv1d(weight: weight, bias: bias, inChannels: inChannels, outChannels: outChannels, kernel: kernel, stride: stride,
               padding: p, groups: groups)
    }
}
