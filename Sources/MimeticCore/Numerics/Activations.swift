/// Element-wise activations over contiguous float buffers, eight lanes at a time: on the baseline
/// x86-64 target SIMD16 code spills and ran ~6x slower than SIMD8 here (measured).
///
/// GELU is the exact (erf) form used by wav2vec 2.0. Foundation's `erff` costs several ns per
/// call and the encoder evaluates ~40 M GELUs per 10 s of audio, so erf is a vectorised rational
/// approximation (odd degree-13 numerator over even degree-8 denominator, the one XLA and Eigen
/// use for float32): max abs error ~1e-7 on [-4, 4], exactly ±1 in float32 outside.
enum Activations {
    typealias V = SIMD8<Float>

    @inline(__always)
    static func erf(_ xIn: V) -> V {
        // pointwiseMin/Max, not clamped(): the latter is not lowered to min/max instructions (3x slower).
        let x = pointwiseMin(pointwiseMax(xIn, V(repeating: -4)), V(repeating: 4))
        let x2 = x * x
        var p = x2 * V(repeating: -2.72614225801306e-10) + V(repeating: 2.77068142495902e-08)
        p = x2 * p + V(repeating: -2.10102402082508e-06)
        p = x2 * p + V(repeating: -5.69250639462346e-05)
        p = x2 * p + V(repeating: -7.34990630326855e-04)
        p = x2 * p + V(repeating: -2.95459980854025e-03)
        p = x2 * p + V(repeating: -1.60960333262415e-02)
        p = x * p
        var q = x2 * V(repeating: -1.45660718464996e-05) + V(repeating: -2.13374055278905e-04)
        q = x2 * q + V(repeating: -1.68282697438203e-03)
        q = x2 * q + V(repeating: -7.37332916720468e-03)
        q = x2 * q + V(repeating: -1.42647390514189e-02)
        return p / q
    }

    /// e^x, Cephes' single-precision polynomial after range reduction x = k·ln2 + r
    /// (max relative error 1.2e-7 over [-87, 88], 0 below, measured against libm). Rounding to k uses
    /// the 1.5·2^23 trick because SIMD `rounded()` and float→int conversions are scalarised.
    @inline(__always)
    static func exp(_ xIn: V) -> V {
        let x = pointwiseMin(pointwiseMax(xIn, V(repeating: -87.33654)), V(repeating: 88.72283))
        let magic = V(repeating: 12582912.0)
        let t = x * 1.44269504088896341 + magic
        let k = t - magic
        let r = x - k * 0.693359375 + k * 2.12194440e-4
        var p = r * 1.9875691500e-4 + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        let y = p * r * r + r + 1
        let ki = unsafeBitCast(t, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
        let e = y * unsafeBitCast((ki &+ 127) &<< 23, to: V.self)
        // Below the float range e^x underflows to 0 (a masked score must weigh nothing).
        return e.replacing(with: 0, where: xIn .< -87.33654)
    }

    /// Scalar erf with the same approximation, for tails shorter than a SIMD vector.
    @inline(__always)
    static func erf(_ x: Float) -> Float { erf(V(repeating: x))[0] }

    @inline(__always)
    static func gelu(_ x: V) -> V { x * V(repeating: 0.5) * (V(repeating: 1) + erf(x * 0.7071067811865476)) }

    static func gelu(_ p: UnsafeMutablePointer<Float>, count n: Int) {
        map(p, n) { gelu($0) }
    }

    static func relu(_ p: UnsafeMutablePointer<Float>, count n: Int) {
        map(p, n) { $0.replacing(with: 0, where: $0 .< 0) }
    }

    static func leakyRelu(_ p: UnsafeMutablePointer<Float>, count n: Int, slope: Float) {
        map(p, n) { $0.replacing(with: $0 * slope, where: $0 .< 0) }
    }

    /// Applies `f` in place, 8 lanes at a time; the tail goes through a zero-padded vector.
    @inline(__always)
    static func map(_ p: UnsafeMutablePointer<Float>, _ n: Int, _ f: (V) -> V) {
        var i = 0
        let raw = UnsafeMutableRawPointer(p)
        while i + 8 <= n {
            let v = raw.loadUnaligned(fromByteOffset: i * 4, as: V.self)
            raw.storeBytes(of: f(v), toByteOffset: i * 4, as: V.self)
            i += 8
        }
        if i < n {
            var v = V(repeating: 0)
            for j in 0..<(n - i) { v[j] = p[i + j] }
            let r = f(v)
            for j in 0..<(n - i) { p[i + j] = r[j] }
        }
    }
}

/// Element-wise arithmetic on contiguous buffers.
enum Vec {
    typealias V = SIMD8<Float>

    /// y += x
    static func add(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count n: Int) {
        var i = 0
        let ry = UnsafeMutableRawPointer(y), rx = UnsafeRawPointer(x)
        while i + 8 <= n {
            let a = ry.loadUnaligned(fromByteOffset: i * 4, as: V.self)
            let b = rx.loadUnaligned(fromByteOffset: i * 4, as: V.self)
            ry.storeBytes(of: a + b, toByteOffset: i * 4, as: V.self)
            i += 8
        }
        while i < n { y[i] += x[i]; i += 1 }
    }

    /// Adds the vector `b[cols]` to each of `rows` rows of `y` (row stride `ld`).
    static func addRows(_ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int, ld: Int, _ b: UnsafePointer<Float>) {
        for r in 0..<rows { add(y + r * ld, b, count: cols) }
    }

    static func scale(_ y: UnsafeMutablePointer<Float>, count n: Int, by s: Float) {
        Activations.map(y, n) { $0 * s }
    }

    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count n: Int) -> Float {
        var acc = V(repeating: 0)
        var i = 0
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        while i + 8 <= n {
            acc += ra.loadUnaligned(fromByteOffset: i * 4, as: V.self) * rb.loadUnaligned(fromByteOffset: i * 4, as: V.self)
            i += 8
        }
        var s = acc.sum()
        while i < n { s += a[i] * b[i]; i += 1 }
        return s
    }

    /// Whether all `n` values are finite (x·0 is 0 for finite x and NaN for NaN and ±Inf).
    static func allFinite(_ x: UnsafePointer<Float>, count n: Int) -> Bool {
        var acc = V(repeating: 0)
        var i = 0
        let rx = UnsafeRawPointer(x)
        while i + 8 <= n {
            acc += rx.loadUnaligned(fromByteOffset: i * 4, as: V.self) * 0
            i += 8
        }
        var s = acc.sum()
        while i < n { s += x[i] * 0; i += 1 }
        return s == 0
    }

    /// y += alpha · x
    static func axpy(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, alpha: Float, count n: Int) {
        var i = 0
        let ry = UnsafeMutableRawPointer(y), rx = UnsafeRawPointer(x)
        let va = V(repeating: alpha)
        while i + 8 <= n {
            let a = ry.loadUnaligned(fromByteOffset: i * 4, as: V.self)
            let b = rx.loadUnaligned(fromByteOffset: i * 4, as: V.self)
            ry.storeBytes(of: a + va * b, toByteOffset: i * 4, as: V.self)
            i += 8
        }
        while i < n { y[i] += alpha * x[i]; i += 1 }
    }
}
