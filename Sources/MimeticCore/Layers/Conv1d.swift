import Foundation

/// 1-D convolution over time-major activations ([time, channels]) as GEMM.
///
/// With weights stored [out, kernel, in_per_group] (docs/model-format.md), the input patch of one
/// output frame is `kernel` consecutive rows: for a single group that is already contiguous
/// memory, so "im2col" is a plain copy of a row range (and no copy at all when kernel ≤ stride,
/// where the patches don't overlap and the input itself is the patch matrix with a row stride).
/// Grouped convolutions first regroup the input to [group][time][channels_per_group].
struct Conv1d {
    let weight: Weight
    let bias: Weight?
    let inChannels: Int
    let outChannels: Int
    let kernel: Int
    let stride: Int
    let padding: Int
    let groups: Int

    init(_ store: TensorStore, _ name: String, in inChannels: Int, out outChannels: Int, kernel: Int, stride: Int = 1,
         padding: Int = 0, groups: Int = 1, bias hasBias: Bool) throws {
        weight = try store.weight("\(name).weight", shape: [outChannels, kernel, inChannels / groups])
        bias = hasBias ? try store.weight("\(name).bias", shape: [outChannels]) : nil
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.groups = groups
    }

    func outputLength(_ n: Int) -> Int {
        let padded = n + 2 * padding
        return padded < kernel ? 0 : (padded - kernel) / stride + 1
    }

    func callAsFunction(_ x: Matrix) -> Matrix {
        precondition(x.cols == inChannels, "Conv1d \(weight.name): input has \(x.cols) channels, expected \(inChannels)")
        let outLen = outputLength(x.rows)
        var y = Matrix(zeros: outLen, outChannels)
        guard outLen > 0 else { return y }
        let inPer = inChannels / groups, outPer = outChannels / groups
        let paddedRows = x.rows + 2 * padding
        // Group-major, zero-padded input: slab g is [paddedRows, inPer].
        let needsCopy = padding > 0 || groups > 1
        var slabs = [Float]()
        if needsCopy {
            slabs = [Float](repeating: 0, count: groups * paddedRows * inPer)
            x.data.withUnsafeBufferPointer { xp in
                slabs.withUnsafeMutableBufferPointer { sp in
                    for g in 0..<groups {
                        let slab = sp.baseAddress! + g * paddedRows * inPer
                        for t in 0..<x.rows {
                            memcpy(slab + (t + padding) * inPer, xp.baseAddress! + t * inChannels + g * inPer, inPer * 4)
                        }
                    }
                }
            }
        }
        let patch = kernel * inPer
        // Bounded scratch for the patch matrix: ~4 MB, at least 64 rows.
        let chunk = max(64, (1 << 20) / max(patch, 1))
        var scratch = [Float](repeating: 0, count: kernel <= stride ? 0 : min(chunk, outLen) * patch)
        let run = { (src: UnsafePointer<Float>, yp: UnsafeMutablePointer<Float>, sp: UnsafeMutablePointer<Float>?) in
            for g in 0..<groups {
                let input = src + g * paddedRows * inPer
                let w = weight.pointer + g * outPer * patch
                let out = yp + g * outPer
                if kernel <= stride {
                    BLAS.gemmNT(m: outLen, n: outPer, k: patch, a: input, lda: stride * inPer, b: w, ldb: patch, c: out, ldc: outChannels)
                } else {
                    var t0 = 0
                    while t0 < outLen {
                        let m = min(chunk, outLen - t0)
                        for i in 0..<m { memcpy(sp! + i * patch, input + (t0 + i) * stride * inPer, patch * 4) }
                        BLAS.gemmNT(m: m, n: outPer, k: patch, a: sp!, lda: patch, b: w, ldb: patch, c: out + t0 * outChannels, ldc: outChannels)
                        t0 += m
                    }
                }
            }
        }
        y.data.withUnsafeMutableBufferPointer { yp in
            scratch.withUnsafeMutableBufferPointer { sp in
                if needsCopy {
                    slabs.withUnsafeBufferPointer { run($0.baseAddress!, yp.baseAddress!, sp.baseAddress) }
                } else {
                    x.data.withUnsafeBufferPointer { run($0.baseAddress!, yp.baseAddress!, sp.baseAddress) }
                }
            }
            if let b = bias { Vec.addRows(yp.baseAddress!, rows: outLen, cols: outChannels, ld: outChannels, b.pointer) }
        }
        return y
    }
}
