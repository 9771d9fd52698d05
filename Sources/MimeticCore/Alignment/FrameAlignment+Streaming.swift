/// The window arithmetic of a wav2vec 2.0 stream: which CNN frames a hop of motion frames reads,
/// which encoder rows it runs, and which CNN frames no later hop needs. A hop over motion frames
/// k0…k1 encodes CNN frames [cnnStart, cnnEnd): `left` frames of context before k0's audio and
/// `lookahead` frames after k1's (both in 50 Hz CNN frames).
extension FrameAlignment {
    /// One hop's encoder window.
    struct Window: Equatable {
        /// CNN frames read, global indices [cnnStart, cnnEnd).
        var cnnStart: Int
        var cnnEnd: Int
        /// Global index of the window's first encoder row, and the window's row count.
        var firstRow: Int
        var rows: Int
    }

    /// CNN frames [0, n) must exist before motion frames up to `lastFrame` can be encoded.
    func cnnFramesNeeded(throughFrame lastFrame: Int, lookahead: Int) -> Int {
        switch mode {
        case .interpolate: return Int((Double(lastFrame) * 50 / Double(fps)).rounded(.up)) + 1 + lookahead
        case .pairs: return 2 * lastFrame + 2 + lookahead
        case .conv: return 2 * lastFrame + Self.downsamplePadding + 1 + lookahead
        case .native: return lastFrame + 1 + lookahead
        }
    }

    /// The oldest CNN frame a hop starting at motion frame `nextFrame` (or any later one) reads.
    func oldestCNNFrame(forFrame nextFrame: Int, left: Int) -> Int {
        switch mode {
        case .interpolate: return max(0, Int((Double(nextFrame) * 50 / Double(fps)).rounded(.down)) - left - 1)
        case .pairs: return max(0, 2 * nextFrame - left)
        case .conv: return max(0, 2 * nextFrame - Self.downsamplePadding - left)
        case .native: return max(0, nextFrame - left)
        }
    }

    /// CNN frames (20 ms each) a frame's audio waits for beyond its own, for the latency estimate:
    /// the interpolation's neighbour, or the downsampling conv's right half.
    var latencyCNNFrames: Int {
        switch mode {
        case .interpolate, .pairs: return 2
        case .conv: return Self.downsamplePadding + 1
        case .native: return 0
        }
    }

    /// The most encoder rows a hop's window can have, for a window of `cnnWindow` CNN frames.
    func maxWindowRows(cnnWindow: Int, hopFrames: Int) -> Int {
        switch mode {
        case .interpolate: return Int((Double(cnnWindow) * Double(fps) / 50).rounded(.up)) + hopFrames + 4
        case .pairs, .conv, .native: return cnnWindow + 2 * hopFrames + 16
        }
    }

    /// The window of the hop over motion frames `first`…`first + count − 1`, given the CNN frames
    /// computed so far (`cnnTotal`, all of them when `complete`) and `needEnd` from
    /// `cnnFramesNeeded`.
    func window(firstFrame first: Int, count: Int, cnnTotal: Int, complete: Bool, needEnd: Int, left: Int) -> Window {
        let last = first + count - 1
        switch mode {
        case .interpolate:
            let j0 = max(0, Int((Double(first) * 50 / Double(fps)).rounded(.down)) - left)
            let j1 = min(cnnTotal, needEnd)
            let m0 = Int((Double(j0) * Double(fps) / 50).rounded(.up))
            let m1 = max(last, Int((Double(j1 - 1) * Double(fps) / 50).rounded(.down)))
            return Window(cnnStart: j0, cnnEnd: j1, firstRow: m0, rows: m1 - m0 + 1)
        case .pairs:
            let j0 = max(0, 2 * first - left)
            let j1 = min(complete ? cnnTotal - cnnTotal % 2 : cnnTotal, needEnd)
            return Window(cnnStart: j0, cnnEnd: j1, firstRow: j0, rows: j1 - j0)
        case .conv, .native:
            let j0 = oldestCNNFrame(forFrame: first, left: left)
            let j1 = min(cnnTotal, needEnd)
            return Window(cnnStart: j0, cnnEnd: j1, firstRow: j0, rows: j1 - j0)
        }
    }

    /// Writes the window's encoder input rows [rows, channels] from the CNN frames held at `cnn`
    /// (whose first row is global frame `cnnBase`): interpolated to the motion rate, or copied.
    func fillWindow(_ w: Window, cnn: UnsafePointer<Float>, cnnBase: Int, channels c: Int, into out: UnsafeMutablePointer<Float>) {
        switch mode {
        case .interpolate:
            let lastFrame = Double(w.cnnEnd - 1)
            for r in 0..<w.rows {
                let p = min(Double(w.firstRow + r) * 50 / Double(fps), lastFrame)
                let i0 = Int(p), a = Float(p - Double(i0)), i1 = min(i0 + 1, w.cnnEnd - 1)
                let r0 = cnn + (i0 - cnnBase) * c, r1 = cnn + (i1 - cnnBase) * c
                let row = out + r * c
                for j in 0..<c { row[j] = (1 - a) * r0[j] + a * r1[j] }
            }
        case .pairs, .conv, .native:
            out.update(from: cnn + (w.cnnStart - cnnBase) * c, count: w.rows * c)
        }
    }

    /// Window row of motion frame `first`'s first feature row (the modes without a downsampling conv).
    func firstFeatureRow(of w: Window, firstFrame first: Int) -> Int { featureRowsPerFrame * first - w.firstRow }

    /// The downsampling conv's input for motion frames `first`…: encoder rows from this global
    /// index, this many (zeros outside the utterance).
    func downsampleInput(firstFrame first: Int, count: Int) -> (firstRow: Int, rows: Int) {
        (Self.downsampleStride * first - Self.downsamplePadding,
         Self.downsampleStride * (count - 1) + Self.downsampleKernel)
    }
}
