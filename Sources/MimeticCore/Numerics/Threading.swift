import CBLAS

/// Public control of the BLAS thread pool (the CLI's `--threads`, benchmarks).
public enum Threading {
    /// Clamped to 1...1024.
    public static func setThreads(_ n: Int) { BLAS.setThreads(n) }
    public static var threads: Int { BLAS.threads }
    /// The OpenBLAS kernel set in use (e.g. "Haswell", "Cooperlake"): OPENBLAS_CORETYPE can force one.
    public static var blasCore: String { String(cString: openblas_get_corename()) }
}
