
/// Measured single-precision matrix-multiply throughput of this machine through OpenBLAS
/// (768³, the practical ceiling the encoder's GEMMs can reach), in GFLOP/s.
public func measureSgemmPeak(size: Int = 768, seconds: Double = 1.0) -> Double {
    let n = size
    let a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 0.25, count: n * n)
    var c = [Float](repeating: 0, count: n * n)
    var reps = 0
    var elapsed = 0.0
    a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
        BLAS.gemmNT(m: n, n: n, k: n, a: ap.baseAddress!, lda: n, b: bp.baseAddress!, ldb: n, c: cp.baseAddress!, ldc: n) // warm-up
        let t0 = MonotonicClock.nanoseconds()
        repeat {
            BLAS.gemmNT(m: n, n: n, k: n, a: ap.baseAddress!, lda: n, b: bp.baseAddress!, ldb: n, c: cp.baseAddress!, ldc: n)
            reps += 1
            elapsed = Double(MonotonicClock.nanoseconds() - t0) / 1e9
        } while elapsed < seconds
    } } }
    return 2 * Double(n) * Double(n) * Double(n) * Double(reps) / elapsed / 1e9
}
