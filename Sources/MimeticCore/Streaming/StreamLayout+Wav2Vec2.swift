extension StreamLayout {
    /// A wav2vec 2.0 stream: the CNN's staging per layer, its running statistics, the CNN frames
    /// a window can read, and the window encoder's scratch.
    mutating func planWav2Vec2(model m: MimeticModel, params p: StreamParams, resampler: ResamplerKernel?, _ plan: inout RegionPlan) {
        let c = m.config, e = c.wav2vec2!, w = m.wav2vec!
        hopFrames = max(1, Int((Double(p.hopMs) * Double(c.fps) / 1000).rounded()))
        left50 = (p.leftContextMs + 19) / 20
        look50 = (p.lookaheadMs + 19) / 20

        // CNN staging, layer by layer, for a chunk of input samples.
        // 40 ms: small enough to add little delay, large enough for efficient GEMMs (conv1 sees 128 rows).
        chunkSamples = 640
        var caps: [Int] = []
        var maxOut = 0
        var arena = 0
        for i in 0..<e.conv_dim.count {
            let k = e.conv_kernel[i], s = e.conv_stride[i]
            let cap = (i == 0 ? chunkSamples : maxOut) + k - 1
            caps.append(cap)
            arena = max(arena, w.convLayers[i].conv.scratchFloats(rows: cap))
            maxOut = (cap - k) / s + 1
        }
        stagingCapacity = caps
        chunkFrames = maxOut
        convArenaFloats = arena + 64

        // Encoder window rows per hop (generous bounds, see FrameAlignment.window).
        let hop50 = Int((Double(hopFrames) * 50 / Double(c.fps)).rounded(.up))
        let cnnWindow = left50 + hop50 + look50 + 24
        maxWindowRows = m.alignment.maxWindowRows(cnnWindow: cnnWindow, hopFrames: hopFrames)
        cnnCapacity = cnnWindow + hop50 + maxOut + 32
        encoderArenaFloats = WindowEncoder.arenaFloats(model: m, maxWindowRows: maxWindowRows, hopFrames: hopFrames)
        // Audio waiting for the CNN: what the queue can hold plus a hop, the lookahead and 1 s.
        audioCapacity = Int(Double(p.maxQueuedFrames + hopFrames) / Double(c.fps) * 16000) + (p.lookaheadMs + p.leftContextMs + 1000) * 16

        planInput(resampler: resampler, &plan)
        stagingCounts = plan.bytes(8 * e.conv_dim.count)
        gnStats = plan.bytes(16 * e.conv_dim[0])
        var inCh = 1
        staging = (0..<e.conv_dim.count).map { i in
            defer { inCh = e.conv_dim[i] }
            return plan.floats(caps[i] * inCh)
        }
        cnn = plan.floats(cnnCapacity * w.cnnChannels)
        convArena = plan.floats(convArenaFloats)
        encoderArena = plan.floats(encoderArenaFloats)
    }
}
