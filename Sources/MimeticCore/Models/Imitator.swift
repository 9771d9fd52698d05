/// Imitator (Thambiraja et al. 2023): a style-agnostic viseme decoder whose own outputs are fed
/// back (no motion feedback, no style in its input), then a per-frame motion decoder
/// MLP(v + s) → motion basis that carries the speaking style.
struct ImitatorHead {
    let styleTable: Weight       // obj_vector: [d, n_styles]
    let mlp: [Linear]            // motion decoder hidden layers, LeakyReLU after each
    let motionOut: Linear        // final_out_layer: the motion basis, d -> 3V
    let startToken: ModelConfig.Imitator.StartToken
    let slope: Float

    init(_ store: TensorStore, config: ModelConfig) throws {
        let d = config.decoder.d_model
        let im = config.imitator!
        styleTable = try store.weight("style.weight", shape: [d, config.styleNames.count])
        mlp = try (0..<im.mlp_layers).map { try Linear(store, "motion_decoder.\($0)", in: d, out: d) }
        motionOut = try Linear(store, "motion_out", in: d, out: config.outputSize)
        startToken = im.start_token
        slope = im.leaky_slope
    }

    /// Viseme features V [T, d].
    ///
    /// `zeros` (the released code after its "style leak" fix): token₀ = 0, tokenₜ = vₜ₋₁.
    /// `style` (the initial release): the first step decodes a zero token, but every later pass
    /// runs on [s, v₀', v₁, …] — token 0 is the style — so frame 0's feature is the decoding of s
    /// and frame 1's input is the zero-token feature v₀'. With one frame only, the output is v₀'.
    func decode(_ dec: AutoregressiveDecoder, memory: AutoregressiveDecoder.Memory, frames: Int, style s: [Float],
                progress: ((Int) -> Void)?) -> Matrix {
        let d = dec.d
        let affine = dec.normAffine(style: nil)
        var v = Matrix(zeros: frames, d)
        let zero = [Float](repeating: 0, count: d)
        v.data.withUnsafeMutableBufferPointer { vp in
            let out = vp.baseAddress!
            let state = AutoregressiveDecoder.State(decoder: dec)
            switch startToken {
            case .zeros:
                var token = zero
                for t in 0..<frames {
                    dec.step(state, token: token, memory: memory, frame: t, affine: affine, out: out + t * d)
                    token = Array(UnsafeBufferPointer(start: out + t * d, count: d))
                    progress?(t + 1)
                }
            case .style:
                var firstFeature = zero
                let probe = AutoregressiveDecoder.State(decoder: dec)
                dec.step(probe, token: zero, memory: memory, frame: 0, affine: affine, out: &firstFeature)
                if frames == 1 {
                    for c in 0..<d { out[c] = firstFeature[c] }
                    progress?(1)
                    return
                }
                var token = s
                for t in 0..<frames {
                    dec.step(state, token: token, memory: memory, frame: t, affine: affine, out: out + t * d)
                    token = t == 0 ? firstFeature : Array(UnsafeBufferPointer(start: out + t * d, count: d))
                    progress?(t + 1)
                }
            }
        }
        return v
    }

    /// Offsets [T, 3V] = motion_out(MLP(V + s)).
    func motion(_ visemes: Matrix, style s: [Float]) -> Matrix {
        var h = visemes
        let d = h.cols
        h.data.withUnsafeMutableBufferPointer { hp in
            s.withUnsafeBufferPointer { Vec.addRows(hp.baseAddress!, rows: visemes.rows, cols: d, ld: d, $0.baseAddress!) }
        }
        for layer in mlp {
            h = layer(h)
            let n = h.count
            h.data.withUnsafeMutableBufferPointer { Activations.leakyRelu($0.baseAddress!, count: n, slope: slope) }
        }
        return motionOut(h)
    }
}
