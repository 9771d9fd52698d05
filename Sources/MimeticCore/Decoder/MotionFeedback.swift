/// Motion feedback (FaceFormer, Mimic): the next token is the motion encoder applied to the
/// predicted offsets, W_in (W_out h + b_out) + b_in. Folding the two maps into one [d, d] product
/// keeps the 3V-wide intermediate out of the per-frame loop.

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

/// token = F h + c with F = W_in W_out folded (see `fuseFeedback`).
@inline(__always)
func feedbackToken(_ h: UnsafePointer<Float>, _ f: [Float], _ c: [Float], d: Int, into token: UnsafeMutablePointer<Float>) {
    f.withUnsafeBufferPointer { fp in
        BLAS.gemmNT(m: 1, n: d, k: d, a: h, lda: d, b: fp.baseAddress!, ldb: d, c: token, ldc: d)
    }
    c.withUnsafeBufferPointer { Vec.add(token, $0.baseAddress!, count: d) }
}
