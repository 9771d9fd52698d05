/// Bidirectional multi-head self-attention over a whole sequence (wav2vec 2.0 layers, Mimic's
/// style encoder): softmax(Q Kᵀ / sqrt(d_h)) V per head, heads being contiguous feature slices.
struct SelfAttention {
    let q: Linear, k: Linear, v: Linear, o: Linear
    let heads: Int
    let width: Int

    init(_ store: TensorStore, _ name: String, width: Int, heads: Int) throws {
        q = try Linear(store, "\(name).q", in: width, out: width)
        k = try Linear(store, "\(name).k", in: width, out: width)
        v = try Linear(store, "\(name).v", in: width, out: width)
        o = try Linear(store, "\(name).o", in: width, out: width)
        self.heads = heads
        self.width = width
    }

    func callAsFunction(_ x: Matrix) -> Matrix {
        let n = x.rows, dh = width / heads
        var qm = q(x)
        let km = k(x), vm = v(x)
        let scale = 1 / Float(dh).squareRoot()
        let total = qm.count
        qm.data.withUnsafeMutableBufferPointer { Vec.scale($0.baseAddress!, count: total, by: scale) }
        var context = Matrix(zeros: n, width)
        var scores = [Float](repeating: 0, count: n * n)
        qm.data.withUnsafeBufferPointer { qp in
            km.data.withUnsafeBufferPointer { kp in
                vm.data.withUnsafeBufferPointer { vp in
                    context.data.withUnsafeMutableBufferPointer { cp in
                        scores.withUnsafeMutableBufferPointer { sp in
                            let s = sp.baseAddress!
                            for h in 0..<heads {
                                let off = h * dh
                                BLAS.gemmNT(m: n, n: n, k: dh, a: qp.baseAddress! + off, lda: width,
                                            b: kp.baseAddress! + off, ldb: width, c: s, ldc: n)
                                for r in 0..<n { Norm.softmax(s + r * n, count: n) }
                                BLAS.gemmNN(m: n, n: dh, k: n, a: s, lda: n, b: vp.baseAddress! + off, ldb: width,
                                            c: cp.baseAddress! + off, ldc: width)
                            }
                        }
                    }
                }
            }
        }
        return o(context)
    }
}

/// A transformer encoder layer: post-LN (`norm_first = false`, wav2vec 2.0 base and torch's
/// default) or pre-LN (wav2vec 2.0 large / "stable layer norm").
struct EncoderLayer {
    let attention: SelfAttention
    let norm1: LayerNorm
    let ffn: FeedForward
    let norm2: LayerNorm
    let preNorm: Bool

    init(_ store: TensorStore, _ name: String, width: Int, heads: Int, ffnDim: Int, activation: FeedForward.Activation,
         eps: Float, preNorm: Bool) throws {
        attention = try SelfAttention(store, "\(name).attention", width: width, heads: heads)
        norm1 = try LayerNorm(store, "\(name).norm1", features: width, eps: eps)
        ffn = try FeedForward(store, "\(name).ffn", features: width, hidden: ffnDim, activation: activation)
        norm2 = try LayerNorm(store, "\(name).norm2", features: width, eps: eps)
        self.preNorm = preNorm
    }

    func callAsFunction(_ x: Matrix) -> Matrix {
        var h = x
        if preNorm {
            var n1 = h; norm1(&n1)
            add(&h, attention(n1))
            var n2 = h; norm2(&n2)
            add(&h, ffn(n2))
        } else {
            add(&h, attention(h)); norm1(&h)
            add(&h, ffn(h)); norm2(&h)
        }
        return h
    }
}

@inline(__always)
func add(_ y: inout Matrix, _ x: Matrix) {
    precondition(y.count == x.count)
    let n = y.count
    y.data.withUnsafeMutableBufferPointer { yp in x.data.withUnsafeBufferPointer { xp in Vec.add(yp.baseAddress!, xp.baseAddress!, count: n) } }
}
