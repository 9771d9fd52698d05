/// Blendshape weights over time: what `mimetic animate --weights` makes of an animation, and what
/// the glTF and Live Link exports write (`GLTFExport`, `LiveLinkCSVExport`).
public struct WeightTrack {
    public var names: [String]
    /// frames × names.count, frame-major.
    public var weights: [Float]
    public var fps: Int
    public var frames: Int

    /// A track from weights already fitted (e.g. by a stream's `pull_weights`): `weights.count`
    /// must be a whole number of frames of `names.count`.
    public init(names: [String], weights: [Float], fps: Int) throws {
        guard !names.isEmpty, weights.count % names.count == 0 else {
            throw MimeticError.invalidArgument("a weight track of \(names.count) shapes cannot hold \(weights.count) values")
        }
        guard fps > 0 else { throw MimeticError.invalidArgument("a weight track needs a positive frame rate, not \(fps)") }
        if let i = weights.firstIndex(where: { !$0.isFinite }) {
            throw MimeticError.invalidArgument("weight \(i % names.count) of frame \(i / names.count) is \(weights[i])")
        }
        self.names = names
        self.weights = weights
        self.fps = fps
        frames = weights.count / names.count
    }

    /// Fits every frame of `offsets` (frames × outputSize) with `retarget`, in order (warm start,
    /// smoothing); `residuals` gets each frame's fit residual.
    public init(retarget: Retarget, offsets: Matrix, fps: Int, residuals: inout [Float]) {
        names = retarget.names
        self.fps = fps
        frames = offsets.rows
        var state = retarget.makeState()
        (weights, residuals) = retarget.solve(frames: offsets, state: &state)
    }

    /// The energy-weighted relative residual of a whole track against `offsets`, from its
    /// per-frame residuals.
    public static func overallResidual(_ residuals: [Float], offsets: Matrix) -> Double {
        var num = 0.0, den = 0.0
        for t in 0..<offsets.rows {
            var xx = 0.0
            for c in 0..<offsets.cols { let v = Double(offsets.data[t * offsets.cols + c]); xx += v * v }
            num += Double(residuals[t] * residuals[t]) * xx
            den += xx
        }
        return den > 0 ? (num / den).squareRoot() : 0
    }
}
