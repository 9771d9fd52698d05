
/// Normalisations over time-major activations.
enum Norm {
    typealias V = SIMD8<Float>

    /// Mean and (biased) variance of one contiguous row, two-pass for accuracy.
    @inline(__always)
    static func moments(_ x: UnsafePointer<Float>, count n: Int) -> (mean: Float, variance: Float) {
        var acc = V(repeating: 0)
        var i = 0
        let rx = UnsafeRawPointer(x)
        while i + 8 <= n { acc += rx.loadUnaligned(fromByteOffset: i * 4, as: V.self); i += 8 }
        var s = acc.sum()
        while i < n { s += x[i]; i += 1 }
        let mean = s / Float(n)
        var acc2 = V(repeating: 0)
        let vm = V(repeating: mean)
        i = 0
        while i + 8 <= n {
            let d = rx.loadUnaligned(fromByteOffset: i * 4, as: V.self) - vm
            acc2 += d * d
            i += 8
        }
        var s2 = acc2.sum()
        while i < n { let d = x[i] - mean; s2 += d * d; i += 1 }
        return (mean, s2 / Float(n))
    }

    /// LayerNorm over the last axis, in place: y = (x - mean) / sqrt(var + eps) · gamma + beta.
    /// `gamma`/`beta` nil means no affine part (SALN's inner norm).
    static func layerNorm(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int, ld: Int? = nil,
                          gamma: UnsafePointer<Float>?, beta: UnsafePointer<Float>?, eps: Float) {
        let stride = ld ?? cols
        for r in 0..<rows {
            let p = x + r * stride
            let (mean, variance) = moments(p, count: cols)
            let inv = 1 / (variance + eps).squareRoot()
            if let g = gamma, let b = beta {
                for c in 0..<cols { p[c] = (p[c] - mean) * inv * g[c] + b[c] }
            } else {
                for c in 0..<cols { p[c] = (p[c] - mean) * inv }
            }
        }
    }

    /// GroupNorm with one group per channel (wav2vec 2.0's first conv layer): each channel is
    /// normalised over the whole time axis. Activations are time-major [rows = time, cols = channel],
    /// so the statistics are column-wise; they are accumulated a row at a time, SIMD across channels.
    static func channelNormOverTime(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
                                    gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, eps: Float) {
        var mean = [Double](repeating: 0, count: cols)
        var sum = [Float](repeating: 0, count: cols)
        // Sums in float per block of rows, folded into double, so long inputs keep precision.
        let block = 256
        var r0 = 0
        while r0 < rows {
            let r1 = min(rows, r0 + block)
            for c in 0..<cols { sum[c] = 0 }
            sum.withUnsafeMutableBufferPointer { s in
                for r in r0..<r1 { Vec.add(s.baseAddress!, x + r * cols, count: cols) }
            }
            for c in 0..<cols { mean[c] += Double(sum[c]) }
            r0 = r1
        }
        let meanF = mean.map { Float($0 / Double(rows)) }
        var varD = [Double](repeating: 0, count: cols)
        r0 = 0
        while r0 < rows {
            let r1 = min(rows, r0 + block)
            for c in 0..<cols { sum[c] = 0 }
            for r in r0..<r1 {
                let p = x + r * cols
                for c in 0..<cols { let d = p[c] - meanF[c]; sum[c] += d * d }
            }
            for c in 0..<cols { varD[c] += Double(sum[c]) }
            r0 = r1
        }
        var scale = [Float](repeating: 0, count: cols)
        var shift = [Float](repeating: 0, count: cols)
        for c in 0..<cols {
            let inv = Float(1 / (varD[c] / Double(rows) + Double(eps)).squareRoot())
            scale[c] = inv * gamma[c]
            shift[c] = beta[c] - meanF[c] * inv * gamma[c]
        }
        for r in 0..<rows {
            let p = x + r * cols
            for c in 0..<cols { p[c] = p[c] * scale[c] + shift[c] }
        }
    }

    /// Numerically stable softmax of one row in place, eight lanes at a time.
    @inline(__always)
    static func softmax(_ x: UnsafeMutablePointer<Float>, count n: Int) {
        let raw = UnsafeMutableRawPointer(x)
        var vmax = V(repeating: -.infinity)
        var i = 0
        while i + 8 <= n { vmax = pointwiseMax(vmax, raw.loadUnaligned(fromByteOffset: i * 4, as: V.self)); i += 8 }
        var m = vmax.max()
        while i < n { m = Swift.max(m, x[i]); i += 1 }
        let vm = V(repeating: m)
        var vsum = V(repeating: 0)
        i = 0
        while i + 8 <= n {
            let e = Activations.exp(raw.loadUnaligned(fromByteOffset: i * 4, as: V.self) - vm)
            raw.storeBytes(of: e, toByteOffset: i * 4, as: V.self)
            vsum += e
            i += 8
        }
        var s = vsum.sum()
        while i < n { let e = expf(x[i] - m); x[i] = e; s += e; i += 1 }
        Vec.scale(x, count: n, by: 1 / s)
    }
}
