import CBLAS

/// The two matrix products the core needs, row-major, through OpenBLAS.
///
/// OpenBLAS 0.3.21 runs a one-row sgemm about 7x slower than the equivalent sgemv
/// (shared/reference/toolchain.md), so single-row products are routed to sgemv here, once,
/// instead of at every call site.
enum BLAS {
    /// C[m×n] = alpha · A[m×k] · B[n×k]ᵀ + beta · C, with leading dimensions (row strides).
    /// This is `x Wᵀ` for a linear layer whose weight is stored `[out, in]`.
    @inline(__always)
    static func gemmNT(m: Int, n: Int, k: Int,
                       a: UnsafePointer<Float>, lda: Int,
                       b: UnsafePointer<Float>, ldb: Int,
                       c: UnsafeMutablePointer<Float>, ldc: Int,
                       alpha: Float = 1, beta: Float = 0) {
        if m == 0 || n == 0 { return }
        if m == 1 {
            // y[n] = B[n×k] · a[k]
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(k), alpha, b, Int32(ldb),
                        a, 1, beta, c, 1)
            return
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// C[m×n] = alpha · A[m×k] · B[k×n] + beta · C (both operands as stored).
    @inline(__always)
    static func gemmNN(m: Int, n: Int, k: Int,
                       a: UnsafePointer<Float>, lda: Int,
                       b: UnsafePointer<Float>, ldb: Int,
                       c: UnsafeMutablePointer<Float>, ldc: Int,
                       alpha: Float = 1, beta: Float = 0) {
        if m == 0 || n == 0 { return }
        if m == 1 {
            // y[n] = B[k×n]ᵀ · a[k]
            cblas_sgemv(CblasRowMajor, CblasTrans, Int32(k), Int32(n), alpha, b, Int32(ldb),
                        a, 1, beta, c, 1)
            return
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// C[m×n] = alpha · A[k×m]ᵀ · B[k×n] + beta · C (gradients: Σ over rows of outer products).
    @inline(__always)
    static func gemmTN(m: Int, n: Int, k: Int,
                       a: UnsafePointer<Float>, lda: Int,
                       b: UnsafePointer<Float>, ldb: Int,
                       c: UnsafeMutablePointer<Float>, ldc: Int,
                       alpha: Float = 1, beta: Float = 0) {
        if m == 0 || n == 0 { return }
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(min(max(1, n), 1024))) }
    static var threads: Int { Int(openblas_get_num_threads()) }
}
