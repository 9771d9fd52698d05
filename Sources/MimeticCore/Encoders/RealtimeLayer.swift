
/// One conv block of the real-time encoder over time-major rows, allocation-free: im2col of the
/// (dilated, strided) taps into arena scratch, one GEMM, bias, LayerNorm, GELU, residual. A stream's
/// frame (a few outputs) goes through the packed weights instead (`WideLinear`): no horizontal
/// sums, and with dilation 1 no im2col copy either, each output's patch being its input rows.
struct RealtimeLayer {
    let weight: Weight   // [out, kernel, in] = [out, kernel · in]: the patch order
    let bias: Weight
    let gamma: Weight
    let beta: Weight
    let inChannels, outChannels, kernel, dilation, stride, lookahead: Int
    let residual: Bool
    let eps: Float
    let packed: WideLinear
    /// At most this many outputs take the packed path (a stream's frame); more take the GEMM.
    static let packedRows = 8

    init(_ store: TensorStore, _ name: String, in cIn: Int, out cOut: Int, kernel: Int, dilation: Int, stride: Int,
         lookahead: Int, residual: Bool, eps: Float) throws {
        weight = try store.weight("\(name).conv.weight", shape: [cOut, kernel, cIn])
        bias = try store.weight("\(name).conv.bias", shape: [cOut])
        gamma = try store.weight("\(name).norm.weight", shape: [cOut])
        beta = try store.weight("\(name).norm.bias", shape: [cOut])
        inChannels = cIn
        outChannels = cOut
        self.kernel = kernel
        self.dilation = dilation
        self.stride = stride
        self.lookahead = lookahead
        self.residual = residual
        self.eps = eps
        packed = WideLinear(weight: weight.pointer, out: cOut, in: kernel * cIn, bias: bias)
    }

    var patch: Int { kernel * inChannels }
    /// Input rows one output reads, first to last.
    var span: Int { (kernel - 1) * dilation + 1 }
    /// Zero rows in front of the first input.
    var leftPad: Int { (kernel - 1) * dilation - lookahead }
    /// Outputs per im2col block: ~1 MB of patches.
    private var blockRows: Int { max(1, (1 << 18) / max(patch, 1)) }

    func scratchFloats(outputs m: Int) -> Int { Arena.rounded(min(max(m, 1), blockRows) * patch) }

    /// Input rows `outputs` outputs read: stride · (m − 1) + span.
    func rowsRead(outputs m: Int) -> Int { m > 0 ? stride * (m - 1) + span : 0 }

    /// `m` outputs from the input rows at `x` (row r is the first row output 0 reads; stride
    /// inChannels) into `y` (stride outChannels). The residual of output r is input row leftPad + r.
    func forward(_ x: UnsafePointer<Float>, outputs m: Int, into y: UnsafeMutablePointer<Float>, arena: inout Arena) {
        guard m > 0 else { return }
        if m <= Self.packedRows { return forwardPacked(x, outputs: m, into: y, arena: &arena) }
        let mark = arena.mark()
        defer { arena.release(to: mark) }
        let block = min(m, blockRows)
        let scratch = arena.take(block * patch)
        var r0 = 0
        while r0 < m {
            let rows = min(block, m - r0)
            for r in 0..<rows {
                let src = x + (stride * (r0 + r)) * inChannels
                let dst = scratch + r * patch
                if dilation == 1 {
                    dst.update(from: src, count: patch)
                } else {
                    for i in 0..<kernel { (dst + i * inChannels).update(from: src + i * dilation * inChannels, count: inChannels) }
                }
            }
            let out = y + r0 * outChannels
            BLAS.gemmNT(m: rows, n: outChannels, k: patch, a: scratch, lda: patch, b: weight.pointer, ldb: patch, c: out, ldc: outChannels)
            Vec.addRows(out, rows: rows, cols: outChannels, ld: outChannels, bias.pointer)
            Norm.layerNorm(out, rows: rows, cols: outChannels, gamma: gamma.pointer, beta: beta.pointer, eps: eps)
            Activations.gelu(out, count: rows * outChannels)
            if residual {
                for r in 0..<rows { Vec.add(out + r * outChannels, x + (leftPad + r0 + r) * inChannels, count: outChannels) }
            }
            r0 += rows
        }
    }

    /// A few outputs through the packed weights; the same block otherwise (bias, LayerNorm, GELU, residual).
    private func forwardPacked(_ x: UnsafePointer<Float>, outputs m: Int, into y: UnsafeMutablePointer<Float>, arena: inout Arena) {
        let mark = arena.mark()
        defer { arena.release(to: mark) }
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>?.self, capacity: Self.packedRows) { rows in
            withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Float>?.self, capacity: Self.packedRows) { outs in
                packedRows(x, outputs: m, into: y, arena: &arena, rows: rows.baseAddress!, outs: outs.baseAddress!)
                packed.apply(rows: m, inputs: rows.baseAddress!, outputs: outs.baseAddress!)
            }
        }
        finishPacked(x, outputs: m, into: y)
    }

    /// The packed path's first half: where each of `m` (≤ packedRows) outputs reads its patch and
    /// writes. With dilation 1 a patch is its input rows themselves; otherwise it is copied into
    /// `arena` (valid until the caller releases it). A batch of streams gathers every stream's
    /// rows, runs one `packed.apply` over them, then `finishPacked` for each.
    func packedRows(_ x: UnsafePointer<Float>, outputs m: Int, into y: UnsafeMutablePointer<Float>, arena: inout Arena,
                    rows: UnsafeMutablePointer<UnsafePointer<Float>?>, outs: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>) {
        let scratch = dilation == 1 ? nil : arena.take(m * patch)
        for r in 0..<m {
            let src = x + (stride * r) * inChannels
            if let scratch {
                let dst = scratch + r * patch
                for i in 0..<kernel { (dst + i * inChannels).update(from: src + i * dilation * inChannels, count: inChannels) }
                rows[r] = UnsafePointer(dst)
            } else {
                rows[r] = src
            }
            outs[r] = y + r * outChannels
        }
    }

    /// The packed path's second half, on the product's `m` outputs at `y` (bias included).
    func finishPacked(_ x: UnsafePointer<Float>, outputs m: Int, into y: UnsafeMutablePointer<Float>) {
        Norm.layerNorm(y, rows: m, cols: outChannels, gamma: gamma.pointer, beta: beta.pointer, eps: eps)
        Activations.gelu(y, count: m * outChannels)
        if residual {
            for r in 0..<m { Vec.add(y + r * outChannels, x + (leftPad + r) * inChannels, count: outChannels) }
        }
    }
}
