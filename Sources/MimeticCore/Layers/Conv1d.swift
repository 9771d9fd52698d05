
/// 1-D convolution over time-major activations ([time, channels]) as GEMM.
///
/// With weights stored [out, kernel, in_per_group] (docs/model-format.md), the input patch of one
/// output frame is `kernel` consecutive rows: for a single group that is already contiguous
/// memory, so "im2col" is a plain copy of a row range (and no copy at all when kernel ≤ stride,
/// where the patches don't overlap and the input itself is the patch matrix with a row stride).
/// Grouped or padded convolutions first copy the input to zero-padded [group][time][channels/group].
struct Conv1d {
    let weight: Weight
    let bias: Weight?
    let inChannels: Int
    let outChannels: Int
    let kernel: Int
    let stride: Int
    let padding: Int
    let groups: Int

    init(weight: Weight, bias: Weight?, inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int, groups: Int) {
        self.weight = weight
        self.bias = bias
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.groups = groups
    }

    init(_ store: TensorStore, _ name: String, in inChannels: Int, out outChannels: Int, kernel: Int, stride: Int = 1,
         padding: Int = 0, groups: Int = 1, bias hasBias: Bool) throws {
        self.init(weight: try store.weight("\(name).weight", shape: [outChannels, kernel, inChannels / groups]),
                  bias: hasBias ? try store.weight("\(name).bias", shape: [outChannels]) : nil,
                  inChannels: inChannels, outChannels: outChannels, kernel: kernel, stride: stride, padding: padding, groups: groups)
    }

    func outputLength(_ n: Int) -> Int {
        let padded = n + 2 * padding
        return padded < kernel ? 0 : (padded - kernel) / stride + 1
    }

    private var patch: Int { kernel * inChannels / groups }
    /// Output rows per im2col block: ~4 MB of patches, at least 64 rows.
    private var chunkRows: Int { max(64, (1 << 20) / max(patch, 1)) }

    /// Scratch floats `forward` takes from the arena for an `n`-row input.
    func scratchFloats(rows n: Int) -> Int {
        let outLen = outputLength(n)
        var total = 0
        if padding > 0 || groups > 1 { total += Arena.rounded(groups * (n + 2 * padding) * (inChannels / groups)) }
        if kernel > stride { total += Arena.rounded(min(chunkRows, max(outLen, 1)) * patch) }
        return total
    }

    /// `n` input rows at `x` (row stride inChannels) → `outputLength(n)` rows at `y` (stride outChannels).
    /// Allocates nothing: scratch comes from `arena` and is returned before it ends.
    @discardableResult
    func forward(_ x: UnsafePointer<Float>, rows n: Int, into y: UnsafeMutablePointer<Float>, arena: inout Arena) -> Int {
        let outLen = outputLength(n)
        guard outLen > 0 else { return 0 }
        let mark = arena.mark()
        defer { arena.release(to: mark) }
        let inPer = inChannels / groups, outPer = outChannels / groups
        let paddedRows = n + 2 * padding
        var source = x
        if padding > 0 || groups > 1 {
            let slabs = arena.take(groups * paddedRows * inPer)
            slabs.initialize(repeating: 0, count: groups * paddedRows * inPer)
            for g in 0..<groups {
                let slab = slabs + g * paddedRows * inPer
                for t in 0..<n { memcpy(slab + (t + padding) * inPer, x + t * inChannels + g * inPer, inPer * 4) }
            }
            source = UnsafePointer(slabs)
        }
        let patch = self.patch
        let chunk = chunkRows
        let scratch: UnsafeMutablePointer<Float>? = kernel > stride ? arena.take(min(chunk, outLen) * patch) : nil
        for g in 0..<groups {
            let input = source + g * paddedRows * inPer
            let w = weight.pointer + g * outPer * patch
            let out = y + g * outPer
            if kernel <= stride {
                BLAS.gemmNT(m: outLen, n: outPer, k: patch, a: input, lda: stride * inPer, b: w, ldb: patch, c: out, ldc: outChannels)
            } else {
                var t0 = 0
                while t0 < outLen {
                    let m = min(chunk, outLen - t0)
                    for i in 0..<m { memcpy(scratch! + i * patch, input + (t0 + i) * stride * inPer, patch * 4) }
                    BLAS.gemmNT(m: m, n: outPer, k: patch, a: scratch!, lda: patch, b: w, ldb: patch, c: out + t0 * outChannels, ldc: outChannels)
                    t0 += m
                }
            }
        }
        if let b = bias { Vec.addRows(y, rows: outLen, cols: outChannels, ld: outChannels, b.pointer) }
        return outLen
    }

    func callAsFunction(_ x: Matrix) -> Matrix {
        precondition(x.cols == inChannels, "Conv1d \(weight.name): input has \(x.cols) channels, expected \(inChannels)")
        var y = Matrix(zeros: outputLength(x.rows), outChannels)
        guard y.rows > 0 else { return y }
        let heap = HeapArena(floats: scratchFloats(rows: x.rows))
        _ = x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
                forward(xp.baseAddress!, rows: x.rows, into: yp.baseAddress!, arena: &heap.arena)
            }
        }
        return y
    }
}
