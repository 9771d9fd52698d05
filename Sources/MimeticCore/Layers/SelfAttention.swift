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

    func scratchFloats(rows n: Int) -> Int { 4 * Arena.rounded(n * width) + Arena.rounded(n * n) }

    /// `n` rows at `x` → `n` rows at `y` (both stride `width`; they may not alias).
    func forward(_ x: UnsafePointer<Float>, rows n: Int, into y: UnsafeMutablePointer<Float>, arena: inout Arena) {
        let mark = arena.mark()
        defer { arena.release(to: mark) }
        let dh = width / heads
        let qm = arena.take(n * width), km = arena.take(n * width), vm = arena.take(n * width)
        let context = arena.take(n * width), scores = arena.take(n * n)
        q.apply(x, rows: n, ldx: width, into: qm, ldy: width)
        k.apply(x, rows: n, ldx: width, into: km, ldy: width)
        v.apply(x, rows: n, ldx: width, into: vm, ldy: width)
        Vec.scale(qm, count: n * width, by: 1 / Float(dh).squareRoot())
        for h in 0..<heads {
            let off = h * dh
            BLAS.gemmNT(m: n, n: n, k: dh, a: qm + off, lda: width, b: km + off, ldb: width, c: scores, ldc: n)
            for r in 0..<n { Norm.softmax(scores + r * n, count: n) }
            BLAS.gemmNN(m: n, n: dh, k: n, a: scores, lda: n, b: vm + off, ldb: width, c: context + off, ldc: width)
        }
        o.apply(context, rows: n, ldx: width, into: y, ldy: width)
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

    var width: Int { attention.width }

    func scratchFloats(rows n: Int) -> Int {
        2 * Arena.rounded(n * width) + max(attention.scratchFloats(rows: n), ffn.scratchFloats(rows: n))
    }

    /// In place over `n` rows at `x`.
    func forward(_ x: UnsafeMutablePointer<Float>, rows n: Int, arena: inout Arena) {
        let mark = arena.mark()
        defer { arena.release(to: mark) }
        let count = n * width
        let tmp = arena.take(count)
        if preNorm {
            let normed = arena.take(count)
            normed.update(from: x, count: count)
            norm1.apply(normed, rows: n, cols: width)
            attention.forward(normed, rows: n, into: tmp, arena: &arena)
            Vec.add(x, tmp, count: count)
            normed.update(from: x, count: count)
            norm2.apply(normed, rows: n, cols: width)
            ffn.forward(normed, rows: n, into: tmp, arena: &arena)
            Vec.add(x, tmp, count: count)
        } else {
            attention.forward(x, rows: n, into: tmp, arena: &arena)
            Vec.add(x, tmp, count: count)
            norm1.apply(x, rows: n, cols: width)
            ffn.forward(x, rows: n, into: tmp, arena: &arena)
            Vec.add(x, tmp, count: count)
            norm2.apply(x, rows: n, cols: width)
        }
    }

    func callAsFunction(_ x: Matrix) -> Matrix {
        var h = x
        let heap = HeapArena(floats: scratchFloats(rows: x.rows))
        h.data.withUnsafeMutableBufferPointer { forward($0.baseAddress!, rows: x.rows, arena: &heap.arena) }
        return h
    }
}

@inline(__always)
func add(_ y: inout Matrix, _ x: Matrix) {
    precondition(y.count == x.count)
    let n = y.count
    y.data.withUnsafeMutableBufferPointer { yp in x.data.withUnsafeBufferPointer { xp in Vec.add(yp.baseAddress!, xp.baseAddress!, count: n) } }
}
