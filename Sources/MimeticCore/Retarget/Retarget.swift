/// Vertex offsets to blendshape weights: the bounded least-squares fit of a frame's offsets by K
/// named shapes in the model's topology (ARKit's 52, a rig's controls, a user's own), then the
/// artist's controls (strength, per-channel gain/offset/clamp, smoothing).
///
///     w = argmin ‖Bᵀw − x‖² + λ‖w‖²  subject to  lower ≤ w ≤ upper      (BoxLeastSquares, exact)
///     out = clamp(strength · gain ⊙ smooth(w) + offset, channelMin, channelMax)
///
/// `Retarget` is immutable and shared; the per-character state (the warm start, the smoothing
/// filter, scratch) is a `RetargetState` the caller owns, so one basis serves many characters.
///
/// ```swift
/// let retarget = try Retarget(path: "models/arkit52.safetensors", outputSize: model.outputSize)
/// var state = retarget.makeState()
/// let residual = retarget.solve(offsets: frame, into: &weights, state: &state)
/// ```
public final class Retarget: @unchecked Sendable {
    public let names: [String]
    public var count: Int { names.count }
    public let outputSize: Int
    /// K × 3V, row-major: shape k's offset field.
    let basis: [Float]
    let solver: BoxLeastSquares
    /// The ridge λ added to G's diagonal.
    public let ridge: Double
    public let controls: RetargetControls

    /// - Parameters:
    ///   - basis: K × outputSize offsets, one shape per row.
    ///   - lower, upper: per-shape bounds (default [0, 1]); lower ≤ upper.
    ///   - relativeRidge: λ as a fraction of G's mean diagonal (default 1e-6): it keeps the fit unique
    ///     when shapes are nearly dependent (left/right pairs of a symmetric rig) and pins shapes the
    ///     basis leaves empty at the bound nearest 0.
    public init(basis: [Float], names: [String], outputSize: Int, lower: [Float]? = nil, upper: [Float]? = nil,
                relativeRidge: Double = 1e-6, controls: RetargetControls? = nil) throws {
        let k = names.count
        guard k > 0, k <= 1024 else { throw MimeticError.invalidArgument("a retarget basis needs 1...1024 shapes, not \(k)") }
        guard outputSize > 0, basis.count == k * outputSize else {
            throw MimeticError.invalidArgument("the basis has \(basis.count) values; \(k) shapes of \(outputSize) need \(k * outputSize)")
        }
        if let i = basis.firstIndex(where: { !$0.isFinite }) {
            throw MimeticError.invalidArgument("basis value \(i) (shape '\(names[i / outputSize])') is not finite")
        }
        guard Set(names).count == k, !names.contains(where: \.isEmpty) else {
            throw MimeticError.invalidArgument("blendshape names must be distinct and non-empty")
        }
        let lo = lower ?? [Float](repeating: 0, count: k), hi = upper ?? [Float](repeating: 1, count: k)
        guard lo.count == k, hi.count == k else { throw MimeticError.invalidArgument("bounds need \(k) values each") }
        for i in 0..<k where !(lo[i].isFinite && hi[i].isFinite && lo[i] <= hi[i]) {
            throw MimeticError.invalidArgument("bounds of '\(names[i])' are [\(lo[i]), \(hi[i])]: they must be finite with lower <= upper")
        }
        guard relativeRidge >= 0, relativeRidge.isFinite else { throw MimeticError.invalidArgument("ridge must be >= 0") }
        self.names = names
        self.outputSize = outputSize
        self.basis = basis
        // G = B Bᵀ in double precision (a one-off cost at creation).
        var gram = [Double](repeating: 0, count: k * k)
        basis.withUnsafeBufferPointer { bp in
            for i in 0..<k {
                for j in 0...i {
                    var s = 0.0
                    let a = bp.baseAddress! + i * outputSize, b = bp.baseAddress! + j * outputSize
                    for c in 0..<outputSize { s += Double(a[c]) * Double(b[c]) }
                    gram[i * k + j] = s
                    gram[j * k + i] = s
                }
            }
        }
        let meanDiagonal = (0..<k).reduce(0.0) { $0 + gram[$1 * k + $1] } / Double(k)
        ridge = relativeRidge * max(meanDiagonal, .leastNormalMagnitude)
        for i in 0..<k { gram[i * k + i] += ridge }
        solver = BoxLeastSquares(gram: gram, k: k, lower: lo.map(Double.init), upper: hi.map(Double.init))
        self.controls = try (controls ?? RetargetControls(count: k)).validated(count: k)
    }

    /// The same basis with other controls (shares the basis and G).
    public init(_ other: Retarget, controls: RetargetControls) throws {
        names = other.names
        outputSize = other.outputSize
        basis = other.basis
        solver = other.solver
        ridge = other.ridge
        self.controls = try controls.validated(count: other.count)
    }

    public func makeState() -> RetargetState { RetargetState(count: count) }

    /// Fits one frame (`outputSize` offsets) into `weights` (`count` floats) and returns the fit's
    /// residual ‖Bᵀw − x‖ / ‖x‖ (before the artist controls; 0 for an all-zero frame).
    /// Allocation-free and lock-free; `state` carries the warm start and the smoothing filter.
    @discardableResult
    public func solve(offsets x: UnsafePointer<Float>, into weights: UnsafeMutablePointer<Float>,
                      state: inout RetargetState, controls override: RetargetControls? = nil) -> Float {
        let k = count
        return state.storage.withUnsafeMutableBufferPointer { store -> Float in
            let s = store.baseAddress!
            let b = s, w = s + k, smoothed = s + 2 * k
            let scratch = s + 3 * k
            // b = B x (double accumulation), and ‖x‖².
            var xx = 0.0
            for c in 0..<outputSize { xx += Double(x[c]) * Double(x[c]) }
            basis.withUnsafeBufferPointer { bp in
                for i in 0..<k {
                    let row = bp.baseAddress! + i * outputSize
                    var acc: Float = 0, acc2: Float = 0, acc3: Float = 0, acc4: Float = 0
                    var c = 0
                    while c + 4 <= outputSize {
                        acc += row[c] * x[c]; acc2 += row[c + 1] * x[c + 1]
                        acc3 += row[c + 2] * x[c + 2]; acc4 += row[c + 3] * x[c + 3]
                        c += 4
                    }
                    while c < outputSize { acc += row[c] * x[c]; c += 1 }
                    b[i] = Double(acc) + Double(acc2) + Double(acc3) + Double(acc4)
                }
            }
            state.status.withUnsafeMutableBufferPointer { st in
                _ = solver.solve(b: b, w: w, status: st.baseAddress!, scratch: scratch)
            }
            // ‖Bᵀw − x‖² = wᵀGw − 2bᵀw + ‖x‖² (G without the ridge).
            var quad = 0.0, lin = 0.0
            for i in 0..<k {
                var gw = 0.0
                for j in 0..<k { gw += solver.gram[i * k + j] * w[j] }
                quad += w[i] * (gw - ridge * w[i])
                lin += b[i] * w[i]
            }
            let residual = xx > 0 ? Float((max(quad - 2 * lin + xx, 0) / xx).squareRoot()) : 0
            (override ?? controls).apply(w, smoothed: smoothed, primed: &state.primed, into: weights, count: k)
            return residual
        }
    }

    /// Offsets of `weights` (the basis combination Bᵀw), `outputSize` floats: what the weights drive.
    public func offsets(weights: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        out.update(repeating: 0, count: outputSize)
        basis.withUnsafeBufferPointer { bp in
            for i in 0..<count where weights[i] != 0 {
                let row = bp.baseAddress! + i * outputSize, wi = weights[i]
                for c in 0..<outputSize { out[c] += wi * row[c] }
            }
        }
    }
}

/// One character's retarget state: the previous solution and active set (the warm start), the
/// smoothing filter, and the solver's scratch. Fixed size; `reset()` forgets the past.
public struct RetargetState {
    var storage: [Double]     // b, w, smoothed (k each), then the solver's scratch
    var status: [Int8]
    var primed = false

    init(count k: Int) {
        storage = [Double](repeating: 0, count: 3 * k + BoxLeastSquares.scratchCount(k: k))
        status = [Int8](repeating: BoxLeastSquares.Status.atLower.rawValue, count: k)
    }

    public mutating func reset() {
        for i in storage.indices { storage[i] = 0 }
        for i in status.indices { status[i] = BoxLeastSquares.Status.atLower.rawValue }
        primed = false
    }
}
