/// FaceFormer (Fan et al. 2022): motion tokens are fed back through the motion encoder.
///
/// token₀ = s, tokenₜ = W_f ŷₜ₋₁ + b_f + s with ŷ = W_r h + b_r the predicted offsets. The
/// feedback is folded into one d×d product, (W_f W_r) h + (W_f b_r + b_f): the same linear map
/// without the 3V-wide intermediate in the loop, so the 3V projection runs once over all frames.
struct FaceFormerHead {
    let motionIn: Linear    // vertice_map: 3V -> d
    let motionOut: Linear   // vertice_map_r: d -> 3V
    let styleTable: Weight  // obj_vector: [d, n_styles]
    let feedback: [Float]   // W_f W_r, [d, d]
    let feedbackBias: [Float]

    init(_ store: TensorStore, config: ModelConfig) throws {
        let d = config.decoder.d_model, out = config.outputSize
        motionIn = try Linear(store, "motion_in", in: out, out: d)
        motionOut = try Linear(store, "motion_out", in: d, out: out)
        styleTable = try store.weight("style.weight", shape: [d, config.styleNames.count])
        (feedback, feedbackBias) = fuseFeedback(into: motionIn, from: motionOut)
    }
}

/// W_in (W_out h + b_out) + b_in folded to one [d, d] matrix and bias.
func fuseFeedback(into inLayer: Linear, from outLayer: Linear) -> ([Float], [Float]) {
    let d = inLayer.outFeatures, wide = inLayer.inFeatures
    var fused = [Float](repeating: 0, count: d * d)
    // (W_in [d, wide]) · (W_out [wide, d])
    fused.withUnsafeMutableBufferPointer { fp in
        BLAS.gemmNN(m: d, n: d, k: wide, a: inLayer.weight.pointer, lda: wide, b: outLayer.weight.pointer, ldb: d,
                    c: fp.baseAddress!, ldc: d)
    }
    var bias = [Float](repeating: 0, count: d)
    bias.withUnsafeMutableBufferPointer { bp in
        if let ob = outLayer.bias {
            BLAS.gemmNT(m: 1, n: d, k: wide, a: ob.pointer, lda: wide, b: inLayer.weight.pointer, ldb: wide, c: bp.baseAddress!, ldc: d)
        }
        if let ib = inLayer.bias { Vec.add(bp.baseAddress!, ib.pointer, count: d) }
    }
    return (fused, bias)
}

/// A style vector from a [d, n] one-hot embedding table: column `slot`, or the weighted sum.
func styleFromTable(_ table: Weight, _ style: StyleInput, family: String) throws -> [Float] {
    let d = table.shape[0], n = table.shape[1]
    switch style {
    case .slot(let k):
        guard (0..<n).contains(k) else {
            throw MimeticError.invalidArgument("style slot \(k) is out of range: this \(family) model has \(n) style slots (0...\(n - 1))")
        }
        return (0..<d).map { table[$0 * n + k] }
    case .weights(let w):
        guard w.count == n else {
            throw MimeticError.invalidArgument("style weights have \(w.count) entries; this \(family) model has \(n) style slots")
        }
        guard w.allSatisfy({ $0.isFinite }) else { throw MimeticError.invalidArgument("style weights contain NaN or Inf") }
        return (0..<d).map { r in (0..<n).reduce(Float(0)) { $0 + table[r * n + $1] * w[$1] } }
    case .code(let c):
        guard c.count == d else {
            throw MimeticError.invalidArgument("style code has \(c.count) values; this \(family) model's style width is \(d)")
        }
        guard c.allSatisfy({ $0.isFinite }) else { throw MimeticError.invalidArgument("style code contains NaN or Inf") }
        return c
    case .motion:
        throw MimeticError.invalidArgument("a \(family) model takes a style slot, slot weights or a style vector, not a reference motion (that is Mimic's style encoder)")
    }
}
