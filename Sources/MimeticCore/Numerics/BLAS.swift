import CBLAS
import CKernels

/// The matrix products the core needs, row-major: through OpenBLAS, except products of a few
/// rows (a stream's per-frame work, offline decoding's steps), which run on Mimetic's own
/// single-threaded kernel (`Sources/CKernels/small_gemm.c`). Why: OpenBLAS 0.3.21 has no per-call
/// thread count, so with `mimetic_set_threads` > 1 a stream's tiny products went through its
/// thread pool and contended with every other thread's streams (8 streams on 8 threads: 96x
/// slower than 8 x one), and its buffer pool takes a mutex per product. With the small kernel a
/// real-time-encoder stream never enters OpenBLAS.
///
/// For the products that stay with OpenBLAS: 0.3.21 runs a one-row sgemm about 7x slower than
/// the equivalent sgemv (docs/performance.md), so gemmNN's single-row products go to sgemv.
enum BLAS {
    /// Products of at most this many rows run on the small kernel.
    static let smallRows = 8

    /// C[m×n] = alpha · A[m×k] · B[n×k]ᵀ + beta · C, with leading dimensions (row strides).
    /// This is `x Wᵀ` for a linear layer whose weight is stored `[out, in]`.
    @inline(__always)
    static func gemmNT(m: Int, n: Int, k: Int,
                       a: UnsafePointer<Float>, lda: Int,
                       b: UnsafePointer<Float>, ldb: Int,
                       c: UnsafeMutablePointer<Float>, ldc: Int,
                       alpha: Float = 1, beta: Float = 0) {
        if m == 0 || n == 0 { return }
        if m <= smallRows, alpha == 1 {
            small_gemm_nt(Int32(m), Int32(n), Int32(k), a, lda, b, ldb, c, ldc, beta)
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
