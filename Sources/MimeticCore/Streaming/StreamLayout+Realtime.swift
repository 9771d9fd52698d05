extension StreamLayout {
    /// A real-time-encoder stream: no windows or hops, the encoder's own state instead (each
    /// layer's input tail, the audio from the next mel window's start, front-end scratch).
    mutating func planRealtime(_ rt: RealtimeEncoder, model m: MimeticModel, params p: StreamParams, resampler: ResamplerKernel?,
                               _ plan: inout RegionPlan) {
        let c = m.config
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

        planInput(resampler: resampler, &plan)
        rtCounts = plan.bytes(16 * rt.layers.count)
        rtStaging = rt.layers.enumerated().map { i, l in plan.floats(rows[i] * l.inChannels) }
        rtWindow = plan.floats(rt.frontEnd.winLength)
        rtFFT = plan.bytes(8 * rt.frontEnd.scratchDoubles)
        rtRow = plan.floats(rt.hiddenSize + c.decoder.d_model)
        rtArena = plan.floats(rtArenaFloats)
    }
}
