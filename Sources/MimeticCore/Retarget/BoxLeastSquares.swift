/// Exact solver of the box-constrained least-squares problem a blendshape fit is:
///
///     minimise ½ wᵀ G w − bᵀ w   subject to  lower ≤ w ≤ upper
///
/// with G = B Bᵀ + λI (B the K × 3V basis, λ ≥ 0 a ridge) and b = B x (x a frame's offsets), which
/// is ‖Bᵀw − x‖² up to a constant. A primal active-set method: each iteration solves the free
/// variables' equations exactly (Cholesky of G restricted to them), steps back onto the first bound
/// it crosses, and frees the bound variable whose Lagrange multiplier has the wrong sign; it ends at
/// the exact minimiser (the KKT conditions hold to rounding), in finitely many steps. Started from
/// the previous frame's active set (a warm start), a stream's frame typically takes one or two.
///
/// Allocation-free: every vector lives in a caller's `scratch` of `scratchCount(k:)` doubles,
/// so one solver (immutable, shared) serves any number of streams, each with its own scratch.
/// The scratch also keeps the last Cholesky factor and the free set it belongs to: G never changes,
/// so when a frame's free set is the previous one (most frames of a stream) the factorisation,
/// the O(K³) part, is skipped. A zeroed scratch holds no factor.
public struct BoxLeastSquares: Sendable {
    public let k: Int
    /// G, K × K row-major (the ridge included).
    let gram: [Double]
    public let lower: [Double]
    public let upper: [Double]

    /// At most this many active-set changes per solve; each changes one variable's status, and an
    /// exact solve needs at most about 2K of them.
    public var maxIterations: Int { 4 * k + 8 }

    public init(gram: [Double], k: Int, lower: [Double], upper: [Double]) {
        precondition(gram.count == k * k && lower.count == k && upper.count == k)
        self.k = k
        self.gram = gram
        self.lower = lower
        self.upper = upper
    }

    /// Doubles of scratch a solve needs.
    public static func scratchCount(k: Int) -> Int { k * k + 6 * k + 1 }

    /// Status of a variable in the active set, kept between frames (the warm start).
    public enum Status: Int8 { case free = 0, atLower = 1, atUpper = 2 }

    /// Solves for `b`; `w` holds the previous solution (any feasible point; it is clamped first) and
    /// receives the new one; `status` the previous active set and receives the new one. Returns the
    /// number of iterations (≤ maxIterations; equal to it only if rounding kept it from converging,
    /// in which case `w` is still feasible and no worse than the start).
    @discardableResult
    public func solve(b: UnsafePointer<Double>, w: UnsafeMutablePointer<Double>, status: UnsafeMutablePointer<Int8>,
                      scratch: UnsafeMutablePointer<Double>) -> Int {
        gram.withUnsafeBufferPointer { g in lower.withUnsafeBufferPointer { lo in upper.withUnsafeBufferPointer { hi in
            Self.solve(n: k, gram: g.baseAddress!, lower: lo.baseAddress!, upper: hi.baseAddress!, maxIterations: maxIterations,
                       b: b, w: w, status: status, scratch: scratch)
        } } }
    }

    /// The method itself, on raw pointers (no bounds checks or reference counting in the loops).
    private static func solve(n: Int, gram: UnsafePointer<Double>, lower: UnsafePointer<Double>, upper: UnsafePointer<Double>,
                              maxIterations: Int, b: UnsafePointer<Double>, w: UnsafeMutablePointer<Double>,
                              status: UnsafeMutablePointer<Int8>, scratch: UnsafeMutablePointer<Double>) -> Int {
        let chol = scratch                  // n × n: the Cholesky factor of G_FF
        let target = scratch + n * n        // the free variables' unconstrained solution
        let rhs = target + n                // b_F − G_FB w_B, then forward-substituted
        let grad = rhs + n                  // G w − b
        let freeIndex = grad + n            // indices of the free variables, as doubles
        let frozen = freeIndex + n          // 1: released once and blocked at once; stays bound this solve
        let factored = frozen + n           // the free set whose factor `chol` holds (kept between solves)
        let factoredCount = factored + n    // its size; 0 (a zeroed scratch) or -1: no factor
        for i in 0..<n { frozen[i] = 0 }
        var lastReleased = -1
        // Feasible start, statuses consistent with it.
        for i in 0..<n {
            if w[i] <= lower[i] || status[i] == Status.atLower.rawValue { w[i] = lower[i]; status[i] = Status.atLower.rawValue }
            else if w[i] >= upper[i] || status[i] == Status.atUpper.rawValue { w[i] = upper[i]; status[i] = Status.atUpper.rawValue }
            else { status[i] = Status.free.rawValue }
            if lower[i] == upper[i] { w[i] = lower[i]; status[i] = Status.atLower.rawValue }
        }
        var iteration = 0
        while iteration < maxIterations {
            iteration += 1
            // 1. The free set and its equations.
            var m = 0
            for i in 0..<n where status[i] == Status.free.rawValue { freeIndex[m] = Double(i); m += 1 }
            if m > 0 {
                for a in 0..<m {
                    let i = Int(freeIndex[a])
                    var r = b[i]
                    for j in 0..<n where status[j] != Status.free.rawValue { r -= gram[i * n + j] * w[j] }
                    rhs[a] = r
                }
                var same = Int(factoredCount[0]) == m
                for a in 0..<m where same { same = factored[a] == freeIndex[a] }
                if !same {
                    for a in 0..<m {
                        let i = Int(freeIndex[a])
                        for c in 0...a { chol[a * m + c] = gram[i * n + Int(freeIndex[c])] }
                        factored[a] = freeIndex[a]
                    }
                    guard choleskyFactor(chol, m: m) else { factoredCount[0] = -1; return iteration }
                    factoredCount[0] = Double(m)
                }
                choleskySubstitute(chol, m: m, rhs, into: target)
                // 2. Step towards the target; stop at the first bound crossed.
                var alpha = 1.0
                var blocking = -1
                var blockingUpper = false
                for a in 0..<m {
                    let i = Int(freeIndex[a])
                    let t = target[a], cur = w[i]
                    if t < lower[i] {
                        let s = (cur - lower[i]) / (cur - t)
                        if s < alpha { alpha = s; blocking = i; blockingUpper = false }
                    } else if t > upper[i] {
                        let s = (upper[i] - cur) / (t - cur)
                        if s < alpha { alpha = s; blocking = i; blockingUpper = true }
                    }
                }
                for a in 0..<m {
                    let i = Int(freeIndex[a])
                    w[i] += alpha * (target[a] - w[i])
                    w[i] = min(max(w[i], lower[i]), upper[i])
                }
                if blocking >= 0 {
                    w[blocking] = blockingUpper ? upper[blocking] : lower[blocking]
                    status[blocking] = blockingUpper ? Status.atUpper.rawValue : Status.atLower.rawValue
                    // In exact arithmetic a released variable moves inward; when rounding says
                    // otherwise (nearly dependent shapes) its multiplier was noise: keep it bound,
                    // or the method would cycle between releasing and blocking it.
                    if blocking == lastReleased && alpha <= 1e-12 { frozen[blocking] = 1 }
                    lastReleased = -1
                    continue
                }
            }
            // 3. Optimal on this face: free the bound variable whose multiplier has the wrong sign.
            for i in 0..<n {
                var g = -b[i]
                for j in 0..<n { g += gram[i * n + j] * w[j] }
                grad[i] = g
            }
            var worst = 0.0
            var release = -1
            var bScale = 0.0
            for i in 0..<n { bScale = max(bScale, abs(b[i])) }
            for i in 0..<n where frozen[i] == 0 {
                let g = grad[i]
                let tolerance = 1e-10 * (bScale + gram[i * n + i] * (abs(w[i]) + 1))
                if status[i] == Status.atLower.rawValue && lower[i] < upper[i] && g < -tolerance && -g > worst { worst = -g; release = i }
                if status[i] == Status.atUpper.rawValue && lower[i] < upper[i] && g > tolerance && g > worst { worst = g; release = i }
            }
            if release < 0 { return iteration }
            status[release] = Status.free.rawValue
            lastReleased = release
        }
        return iteration
    }

    /// Overwrites the lower triangle of the m × m symmetric matrix in `a` (row-major) by its Cholesky
    /// factor L. False if the matrix is not positive definite (a degenerate basis without a ridge);
    /// the caller keeps its feasible point.
    private static func choleskyFactor(_ a: UnsafeMutablePointer<Double>, m: Int) -> Bool {
        for i in 0..<m {
            for j in 0...i {
                var s = a[i * m + j]
                for p in 0..<j { s -= a[i * m + p] * a[j * m + p] }
                if i == j {
                    guard s > 0 else { return false }
                    a[i * m + i] = s.squareRoot()
                } else {
                    a[i * m + j] = s / a[j * m + j]
                }
            }
        }
        return true
    }

    /// Solves (L Lᵀ) x = r with the factor `choleskyFactor` left in `a`.
    private static func choleskySubstitute(_ a: UnsafePointer<Double>, m: Int, _ r: UnsafePointer<Double>,
                                           into x: UnsafeMutablePointer<Double>) {
        for i in 0..<m {
            var s = r[i]
            for p in 0..<i { s -= a[i * m + p] * x[p] }
            x[i] = s / a[i * m + i]
        }
        for i in stride(from: m - 1, through: 0, by: -1) {
            var s = x[i]
            for p in (i + 1)..<m { s -= a[p * m + i] * x[p] }
            x[i] = s / a[i * m + i]
        }
    }
}
