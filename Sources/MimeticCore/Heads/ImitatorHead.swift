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

    /// Offsets [T, 3V] = motion_out(MLP(V + s)).
    /// With a persona's `basisDelta` (ΔW [3V, d], Δb [3V]) the basis is W + ΔW, b + Δb.
    func motion(_ visemes: Matrix, style s: [Float], basisDelta: ([Float], [Float])? = nil) -> Matrix {
        var h = visemes
        let d = h.cols, rows = h.rows
        h.data.withUnsafeMutableBufferPointer { hp in
            s.withUnsafeBufferPointer { Vec.addRows(hp.baseAddress!, rows: rows, cols: d, ld: d, $0.baseAddress!) }
        }
        for layer in mlp {
            h = layer(h)
            let n = h.count
            h.data.withUnsafeMutableBufferPointer { Activations.leakyRelu($0.baseAddress!, count: n, slope: slope) }
        }
        var y = motionOut(h)
        if let (dw, db) = basisDelta {
            let D = y.cols
            h.data.withUnsafeBufferPointer { hp in
                dw.withUnsafeBufferPointer { wp in
                    y.data.withUnsafeMutableBufferPointer { yp in
                        BLAS.gemmNT(m: rows, n: D, k: d, a: hp.baseAddress!, lda: d, b: wp.baseAddress!, ldb: d, c: yp.baseAddress!, ldc: D, beta: 1)
                        db.withUnsafeBufferPointer { Vec.addRows(yp.baseAddress!, rows: rows, cols: D, ld: D, $0.baseAddress!) }
                    }
                }
            }
        }
        return y
    }
}
