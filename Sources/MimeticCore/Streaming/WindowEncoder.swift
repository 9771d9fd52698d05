/// A wav2vec 2.0 stream's encoder: every hop, the transformer over a window of CNN frames
/// [left context | hop | lookahead], then the hop's rows taken to the motion rate and through the
/// audio map. Exact in its decoder; the encoder differs from offline only through the window
/// (bidirectional attention and the ±64-frame positional conv see less) and the running
/// statistics of `IncrementalCNN` (docs/streaming.md measures the difference). Allocation-free.
struct WindowEncoder {
    let encoder: Wav2Vec2Encoder
    let alignment: FrameAlignment
    let audioMap: Linear
    /// The downsampling conv without its implicit padding (the window supplies the rows).
    let downsample: Conv1d?
    let featureWidth: Int
    let hopFrames: Int
    let left: Int        // CNN frames of left context
    let lookahead: Int   // CNN frames of lookahead
    let maxWindowRows: Int
    let arena: UnsafeMutablePointer<Float>
    let arenaFloats: Int

    init(model: MimeticModel, hopFrames: Int, left: Int, lookahead: Int, maxWindowRows: Int,
         arena: UnsafeMutablePointer<Float>, arenaFloats: Int) {
        encoder = model.wav2vec!
        alignment = model.alignment
        audioMap = model.audioMap
        downsample = model.downsample?.withPadding(0)
        featureWidth = model.config.decoder.d_model
        self.hopFrames = hopFrames
        self.left = left
        self.lookahead = lookahead
        self.maxWindowRows = maxWindowRows
        self.arena = arena
        self.arenaFloats = arenaFloats
    }

    /// Scratch floats a hop needs (with the model's window bound).
    static func arenaFloats(model m: MimeticModel, maxWindowRows rows: Int, hopFrames: Int) -> Int {
        let w = m.wav2vec!
        let h = w.config.hidden_size, d = m.config.decoder.d_model
        var floats = Arena.rounded(rows * max(w.cnnChannels, h)) + Arena.rounded(rows * h) + w.transformScratchFloats(rows: rows)
        if let ds = m.downsample?.withPadding(0) {
            let dsRows = m.alignment.downsampleInput(firstFrame: 0, count: hopFrames).rows
            floats += Arena.rounded(dsRows * h) + Arena.rounded(hopFrames * h) + ds.scratchFloats(rows: dsRows)
        }
        return floats + Arena.rounded(hopFrames * m.keysPerFrame * d) + 64
    }

    /// CNN frames that must exist before the hop ending at motion frame `lastFrame` can run.
    func cnnFramesNeeded(throughFrame lastFrame: Int) -> Int {
        alignment.cnnFramesNeeded(throughFrame: lastFrame, lookahead: lookahead)
    }

    /// The oldest CNN frame the hop starting at `nextFrame`, or any later one, reads.
    func oldestCNNFrame(forFrame nextFrame: Int) -> Int { alignment.oldestCNNFrame(forFrame: nextFrame, left: left) }

    /// Audio features of motion frames `first`…`first + count − 1` ([count · rows per frame, d],
    /// in the arena, valid until the next hop) from the CNN frames `cnn` holds.
    func encode(firstFrame first: Int, count: Int, cnn: IncrementalCNN, complete: Bool) -> UnsafeMutablePointer<Float> {
        let cnnTotal = cnn.state.pointee.total
        let needEnd = cnnFramesNeeded(throughFrame: first + count - 1)
        let w = alignment.window(firstFrame: first, count: count, cnnTotal: cnnTotal, complete: complete, needEnd: needEnd, left: left)
        precondition(w.rows <= maxWindowRows, "stream window of \(w.rows) rows exceeds the planned \(maxWindowRows)")
        let hd = encoder.config.hidden_size, d = featureWidth, kpf = alignment.featureRowsPerFrame
        var arena = Arena(base: arena, capacity: arenaFloats)
        let features = arena.take(count * kpf * d)
        let aligned = arena.take(w.rows * encoder.cnnChannels), encoded = arena.take(w.rows * hd)
        alignment.fillWindow(w, cnn: cnn.r.frames, cnnBase: cnn.state.pointee.base, channels: encoder.cnnChannels, into: aligned)
        encoder.projectForward(aligned, rows: w.rows, into: encoded)
        encoder.transformForward(encoded, rows: w.rows, arena: &arena)
        if let ds = downsample {
            // The stride-2 conv over the frames' encoder rows, zero outside the utterance.
            let (start, rows) = alignment.downsampleInput(firstFrame: first, count: count)
            let dsIn = arena.take(rows * hd), dsOut = arena.take(count * hd)
            for r in 0..<rows {
                let g = start + r
                let dst = dsIn + r * hd
                if g >= w.firstRow && g < w.firstRow + w.rows { dst.update(from: encoded + (g - w.firstRow) * hd, count: hd) }
                else { dst.update(repeating: 0, count: hd) }
            }
            ds.forward(dsIn, rows: rows, into: dsOut, arena: &arena)
            audioMap.apply(dsOut, rows: count, ldx: hd, into: features, ldy: d)
        } else {
            let row = alignment.firstFeatureRow(of: w, firstFrame: first)
            audioMap.apply(encoded + row * hd, rows: count * kpf, ldx: hd, into: features, ldy: d)
        }
        return features
    }
}
