/// How audio frames (the wav2vec 2.0 CNN's, 50 Hz) meet motion frames (fps): the one owner of
/// every per-mode formula, offline and streaming. Everything else asks it.
///
/// | mode          | who                 | CNN frames L → encoder rows → motion frames                      |
/// |---------------|---------------------|------------------------------------------------------------------|
/// | `interpolate` | FaceFormer VOCASET, | linear interpolation to T = int(L/50·fps) + offset rows, 1 per   |
/// |               | Imitator, Mimic     | frame (Mimic: offset 1)                                          |
/// | `pairs`       | FaceFormer BIWI     | the first L − L mod 2 rows, 2 per frame: T = L / 2                |
/// | `conv`        | Mimic (conv)        | L rows, then a stride-2 conv (kernel 15, padding 7): T = ⌈L/2⌉   |
/// | `native`      | the real-time encoder | the encoder emits one row per frame itself: T = L              |
struct FrameAlignment: Sendable {
    typealias Mode = ModelConfig.Alignment.Mode
    let mode: Mode
    let fps: Int
    let framesOffset: Int

    init(_ config: ModelConfig) {
        mode = config.alignment.mode
        fps = config.fps
        framesOffset = config.alignment.frames_offset ?? 0
    }

    /// The pairings the runtime implements, checked when a config is decoded.
    static func validate(_ a: ModelConfig.Alignment, realtimeEncoder: Bool, fail: (String) -> MimeticError) throws {
        if realtimeEncoder {
            guard a.mode == .native, (a.frames_offset ?? 0) == 0 else {
                throw fail("the realtime encoder needs alignment {\"mode\": \"native\", \"frames_offset\": 0}")
            }
        } else {
            guard a.mode != .native else { throw fail("alignment 'native' goes with the realtime encoder only") }
        }
        if a.mode == .interpolate, let o = a.frames_offset, !(0...8).contains(o) {
            throw fail("alignment.frames_offset \(o) out of range")
        }
    }

    /// The name written in model files ("interpolate", "pairs", "conv", "native").
    var name: String { mode.rawValue }

    // MARK: Offline

    /// Audio-feature rows the decoder reads per motion frame (BIWI's pairs: two).
    var featureRowsPerFrame: Int { mode == .pairs ? 2 : 1 }

    /// Whether a stride-2 conv (`encoder.downsample`) takes the encoder rows to the motion rate.
    var downsamples: Bool { mode == .conv }
    static let downsampleKernel = 15, downsampleStride = 2, downsamplePadding = 7

    /// Motion frames of an utterance of `l` CNN frames (the offline count, which streams match).
    func motionFrames(cnnFrames l: Int) -> Int {
        switch mode {
        case .interpolate: return max(0, Self.interpolatedFrames(cnnFrames: l, fps: fps, offset: framesOffset))
        case .pairs: return l / 2
        case .conv: return (l + 1) / 2
        case .native: return l
        }
    }

    /// Rows entering the transformer for `l` CNN frames.
    func encoderRows(cnnFrames l: Int) -> Int {
        switch mode {
        case .interpolate: return max(0, Self.interpolatedFrames(cnnFrames: l, fps: fps, offset: framesOffset))
        case .pairs: return l - l % 2
        case .conv, .native: return l
        }
    }

    /// The CNN output [L, C] as the transformer's input rows; `samples` only names the input in errors.
    func align(_ cnn: Matrix, samples: Int) throws -> Matrix {
        let l = cnn.rows
        switch mode {
        case .interpolate:
            let t = encoderRows(cnnFrames: l)
            guard t >= 1 else { throw MimeticError.invalidAudio("\(samples) samples make no motion frame at \(fps) fps") }
            return Self.interpolateLinear(cnn, to: t)
        case .pairs:
            guard l >= 2 else { throw MimeticError.invalidAudio("\(samples) samples make no motion frame (two audio frames per motion frame)") }
            return cnn.rows(0..<(l - l % 2))
        case .conv, .native:
            return cnn
        }
    }

    /// Motion frames for `L` CNN frames, computed as the originals do in Python floats:
    /// `int((L / 50.0) * fps) + offset` (FaceFormer/Imitator: offset 0; Mimic: `int(L/50*25)+1`).
    /// Doing this in integers would differ for some L (L = 205 gives 122 here, not 123).
    static func interpolatedFrames(cnnFrames l: Int, fps: Int, offset: Int) -> Int {
        Int((Double(l) / 50.0) * Double(fps)) + offset
    }

    /// `F.interpolate(mode: 'linear', align_corners: True)` along time: output t samples input
    /// position t·(L−1)/(T−1).
    static func interpolateLinear(_ x: Matrix, to frames: Int) -> Matrix {
        let l = x.rows, c = x.cols
        var y = Matrix(zeros: frames, c)
        guard frames > 0, l > 0 else { return y }
        // torch computes the scale in float for float tensors; matching that keeps the sample
        // positions identical to the reference, not merely close.
        let scale: Float = frames > 1 ? Float(l - 1) / Float(frames - 1) : 0
        x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
                for t in 0..<frames {
                    let pos = scale * Float(t)
                    let i0 = min(Int(pos), l - 1)
                    let i1 = min(i0 + 1, l - 1)
                    let a = pos - Float(i0)
                    let out = yp.baseAddress! + t * c
                    let r0 = xp.baseAddress! + i0 * c, r1 = xp.baseAddress! + i1 * c
                    for j in 0..<c { out[j] = (1 - a) * r0[j] + a * r1[j] }
                }
            }
        }
        return y
    }
}
