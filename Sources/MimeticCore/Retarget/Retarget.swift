import CKernels

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
    /// The fitted shapes block-major, as `frame_projection` reads them (CKernels/frame_projection.h):
    /// for each block of `FRAME_PROJECTION_BLOCK` floats of a frame, the shapes nonzero there and their values. A rig's
    /// shapes are local (the ARKit basis of the shipped rig is 17 % nonzero, 29 of its 52 shapes
    /// empty), so a frame's projection reads only those, and reads the frame itself once.
    let packed: [Float]
    let blockStart: [Int32]
    let entryRow: [Int32]
    /// The bounded fit over the shapes that are not empty (`fitted`); an empty shape (all zeros,
    /// as 29 of the ARKit-52 on the shipped rig) is never fitted: its weight is 0 clamped to its bounds.
    let solver: BoxLeastSquares
    let fitted: [Int64]
    public let lower: [Float]
    public let upper: [Float]
    /// The ridge λ added to G's diagonal.
    public let ridge: Double
    public let controls: RetargetControls

    /// - Parameters:
    ///   - basis: K × outputSize offsets, one shape per row.
    ///   - lower, upper: per-shape bounds (default [0, 1]); lower ≤ upper.
    ///   - relativeRidge: λ as a fraction of G's mean diagonal (default 1e-4; a Float, as in the C params, so
    ///     that the CLI and the ABI fit with the same λ to the bit): it keeps the fit unique
    ///     and stable when shapes are nearly dependent (a smile and its reversed frown), at a bias of
    ///     about that fraction on the weights, and pins shapes the basis leaves empty at 0.
    public init(basis: [Float], names: [String], outputSize: Int, lower: [Float]? = nil, upper: [Float]? = nil,
                relativeRidge: Float = 1e-4, controls: RetargetControls? = nil) throws {
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
        let fitted = (0..<k).filter { i in basis[(i * outputSize)..<((i + 1) * outputSize)].contains { $0 != 0 } }.map(Int64.init)
        (packed, blockStart, entryRow) = Self.blockMajor(basis, rows: fitted.map(Int.init), size: outputSize)
        let m = fitted.count
        // G = B Bᵀ over the fitted shapes, in double precision (a one-off cost at creation).
        var gram = [Double](repeating: 0, count: m * m)
        basis.withUnsafeBufferPointer { bp in
            for (a, i) in fitted.map(Int.init).enumerated() {
                for (c, j) in fitted[0...a].map(Int.init).enumerated() {
                    let s = Self.exactDot(bp.baseAddress! + i * outputSize, bp.baseAddress! + j * outputSize, outputSize)
                    gram[a * m + c] = s
                    gram[c * m + a] = s
                }
            }
        }
        let meanDiagonal = (0..<m).reduce(0.0) { $0 + gram[$1 * m + $1] } / Double(max(k, 1))
        ridge = Double(relativeRidge) * max(meanDiagonal, .leastNormalMagnitude)
        for a in 0..<m { gram[a * m + a] += ridge }
        self.fitted = fitted
        self.lower = lo
        self.upper = hi
        solver = BoxLeastSquares(gram: gram, k: m, lower: fitted.map { Double(lo[Int($0)]) }, upper: fitted.map { Double(hi[Int($0)]) })
        self.controls = try Self.attach(controls ?? RetargetControls(count: k), names: names, upper: hi).validated(count: k)
    }

    /// The names that mark lip-closure channels (the closure boost acts on these).
    public static let closureNames: Set<String> = ["mouthClose", "mouthPressLeft", "mouthPressRight", "PP", "lips_close", "lips_press"]

    /// Controls with this basis' closure channels and bounds filled in.
    static func attach(_ controls: RetargetControls, names: [String], upper: [Float]) -> RetargetControls {
        var c = controls
        c.closureChannels = names.indices.filter { closureNames.contains(names[$0]) }
        c.channelUpper = upper
        return c
    }

    /// `controls` made ready for this basis (its closure channels and bounds) and checked.
    public func prepared(_ controls: RetargetControls) throws -> RetargetControls {
        try Self.attach(controls, names: names, upper: upper).validated(count: count)
    }

    /// The same basis with other controls (shares the basis and G).
    public init(_ other: Retarget, controls: RetargetControls) throws {
        names = other.names
        outputSize = other.outputSize
        basis = other.basis
        packed = other.packed
        blockStart = other.blockStart
        entryRow = other.entryRow
        solver = other.solver
        fitted = other.fitted
        lower = other.lower
        upper = other.upper
        ridge = other.ridge
        self.controls = try Self.attach(controls, names: other.names, upper: other.upper).validated(count: other.count)
    }

    /// The basis, K × outputSize (shape-major), as given.
    public var basisValues: [Float] { basis }

    public func makeState() -> RetargetState { RetargetState(count: count, fitted: fitted.count) }

    /// Fits one frame (`outputSize` offsets) into `weights` (`count` floats) and returns the fit's
    /// residual ‖Bᵀw − x‖ / ‖x‖ (before the artist controls; 0 for an all-zero frame). A frame that
    /// holds NaN or ±Inf is not fitted: the result is NaN, and `weights` and `state` are untouched
    /// (the finiteness check rides on the projection's one read of the frame).
    /// Allocation-free and lock-free; `state` carries the warm start and the smoothing filter.
    @discardableResult
    public func solve(offsets x: UnsafePointer<Float>, into weights: UnsafeMutablePointer<Float>,
                      state: inout RetargetState, controls override: RetargetControls? = nil) -> Float {
        let k = count, m = fitted.count
        return state.storage.withUnsafeMutableBufferPointer { store -> Float in
            let s = store.baseAddress!
            let b = s, w = s + m, raw = s + 2 * m, smoothed = raw + k
            let scratch = smoothed + k
            // b = B x over the fitted shapes, ‖x‖² and x's finiteness, in one pass (CKernels).
            var xx = 0.0
            let finite = packed.withUnsafeBufferPointer { pp in blockStart.withUnsafeBufferPointer { bs in
                entryRow.withUnsafeBufferPointer { er in state.lanes.withUnsafeMutableBufferPointer { lanes in
                    frame_projection(pp.baseAddress, bs.baseAddress!, er.baseAddress, outputSize, x, Int32(m), lanes.baseAddress, b, &xx)
                } }
            } }
            guard finite != 0 else { return .nan }
            state.lastIterations = state.status.withUnsafeMutableBufferPointer { st in
                solver.solve(b: b, w: w, status: st.baseAddress!, scratch: scratch)
            }
            // ‖Bᵀw − x‖² = wᵀGw − 2bᵀw + ‖x‖² (G without the ridge).
            var quad = 0.0, lin = 0.0
            solver.gram.withUnsafeBufferPointer { g in
                for a in 0..<m {
                    var gw = 0.0
                    for c in 0..<m { gw += g[a * m + c] * w[c] }
                    quad += w[a] * (gw - ridge * w[a])
                    lin += b[a] * w[a]
                }
            }
            let residual = xx > 0 ? Float((max(quad - 2 * lin + xx, 0) / xx).squareRoot()) : 0
            lower.withUnsafeBufferPointer { lo in upper.withUnsafeBufferPointer { hi in fitted.withUnsafeBufferPointer { fp in
                for i in 0..<k { raw[i] = Double(min(max(0, lo[i]), hi[i])) }
                for a in 0..<m { raw[Int(fp[a])] = w[a] }
            } } }
            (override ?? controls).apply(raw, smoothed: smoothed, primed: &state.primed, into: weights, count: k)
            return residual
        }
    }

    /// `rows` of the basis block-major (the layout `frame_projection` reads): per block of
    /// `FRAME_PROJECTION_BLOCK` floats, the rows nonzero in it (as indices into `rows`) and their values, zero-padded past `size`.
    static func blockMajor(_ basis: [Float], rows: [Int], size n: Int) -> (packed: [Float], blockStart: [Int32], entryRow: [Int32]) {
        let block = Int(FRAME_PROJECTION_BLOCK), blocks = (n + block - 1) / block
        var packed: [Float] = [], starts: [Int32] = [0], entries: [Int32] = []
        for j in 0..<blocks {
            let span = (j * block)..<min((j + 1) * block, n)
            for (a, row) in rows.enumerated() where basis[(row * n + span.lowerBound)..<(row * n + span.upperBound)].contains(where: { $0 != 0 }) {
                entries.append(Int32(a))
                packed += basis[(row * n + span.lowerBound)..<(row * n + span.upperBound)]
                packed += [Float](repeating: 0, count: block - span.count)
            }
            starts.append(Int32(entries.count))
        }
        return (packed, starts, entries)
    }

    /// Fits every frame (row) of `offsets` in order, the warm start and smoothing carrying from one
    /// to the next: weights frames × count, and each frame's residual.
    public func solve(frames offsets: Matrix, state: inout RetargetState) -> (weights: [Float], residuals: [Float]) {
        let k = count
        var w = [Float](repeating: 0, count: offsets.rows * k)
        var e = [Float](repeating: 0, count: offsets.rows)
        offsets.data.withUnsafeBufferPointer { x in
            w.withUnsafeMutableBufferPointer { wp in
                for t in 0..<offsets.rows {
                    e[t] = solve(offsets: x.baseAddress! + t * offsets.cols, into: wp.baseAddress! + t * k, state: &state)
                }
            }
        }
        return (w, e)
    }

    /// Σ a[c]·x[c] in double throughout (the normal matrix, once).
    static func exactDot(_ a: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int) -> Double {
        var s = 0.0
        for c in 0..<n { s += Double(a[c]) * Double(x[c]) }
        return s
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
    var storage: [Double]     // b, w (fitted shapes), raw, smoothed (all shapes), then the solver's scratch
    var lanes: [Float]        // the projection's accumulators, 8 per fitted shape
    var status: [Int8]
    var primed = false
    /// Active-set iterations of the last solve (diagnostics: about 2-3 warm, 20 cold, for ARKit-52).
    public internal(set) var lastIterations = 0

    init(count k: Int, fitted m: Int) {
        storage = [Double](repeating: 0, count: 2 * m + 2 * k + BoxLeastSquares.scratchCount(k: m))
        lanes = [Float](repeating: 0, count: 8 * max(m, 1))
        status = [Int8](repeating: BoxLeastSquares.Status.atLower.rawValue, count: m)
    }

    public mutating func reset() {
        for i in storage.indices { storage[i] = 0 }
        for i in status.indices { status[i] = BoxLeastSquares.Status.atLower.rawValue }
        primed = false
    }
}
