extension StreamEngine {
    /// Builds the parts over their regions of the buffer at `base`.
    static func parts(model m: MimeticModel, params p: StreamParams, layout l: StreamLayout, resampler: ResamplerKernel?,
                      base: UnsafeMutableRawPointer)
        -> (StreamInput, FrameQueue, IncrementalCNN?, WindowEncoder?, RealtimeEncoderStream?) {
        func floats(_ offset: Int) -> UnsafeMutablePointer<Float> { (base + offset).assumingMemoryBound(to: Float.self) }
        func section<T>(_ path: KeyPath<StreamHeader, T>) -> UnsafeMutablePointer<T> {
            (base + l.header + MemoryLayout<StreamHeader>.offset(of: path)!).assumingMemoryBound(to: T.self)
        }
        let input = StreamInput(state: section(\.input), samples: floats(l.audio), capacity: l.audioCapacity,
                                scratch: floats(l.inputScratch), resampler: resampler, history: floats(l.resamplerHistory),
                                policy: p.samplePolicy)
        let queue = FrameQueue(state: section(\.queue), offsets: floats(l.queueOffsets),
                               records: (base + l.queueRecords).assumingMemoryBound(to: FrameQueue.Record.self),
                               capacity: l.queueCapacity, frameSize: l.outputSize)
        if let rt = m.realtime {
            let regions = RealtimeEncoderStream.Regions(
                state: section(\.realtime), counts: (base + l.rtCounts).assumingMemoryBound(to: Int.self),
                staging: l.rtStaging.map(floats), stagingRows: l.rtStagingRows, window: floats(l.rtWindow),
                fft: (base + l.rtFFT).assumingMemoryBound(to: Double.self), row: floats(l.rtRow),
                arena: floats(l.rtArena), arenaFloats: l.rtArenaFloats)
            return (input, queue, nil, nil, RealtimeEncoderStream(encoder: rt, audioMap: m.audioMap, featureWidth: m.config.decoder.d_model, r: regions))
        }
        let regions = IncrementalCNN.Regions(
            state: section(\.cnn), staging: l.staging.map(floats), stagingCapacity: l.stagingCapacity,
            stagingCounts: (base + l.stagingCounts).assumingMemoryBound(to: Int.self),
            channelStats: (base + l.gnStats).assumingMemoryBound(to: Double.self),
            frames: floats(l.cnn), frameCapacity: l.cnnCapacity, arena: floats(l.convArena), arenaFloats: l.convArenaFloats)
        let cnn = IncrementalCNN(encoder: m.wav2vec!, r: regions, chunkSamples: l.chunkSamples, chunkFrames: l.chunkFrames)
        let windows = WindowEncoder(model: m, hopFrames: l.hopFrames, left: l.left50, lookahead: l.look50, maxWindowRows: l.maxWindowRows,
                                    arena: floats(l.encoderArena), arenaFloats: l.encoderArenaFloats)
        return (input, queue, cnn, windows, nil)
    }
}
