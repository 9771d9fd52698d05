import MimeticCore

/// Blendshape weights over time: what `--weights` makes of an animation (and what the glTF and
/// Live Link exports write).
struct WeightTrack {
    var names: [String]
    /// frames × names.count, frame-major.
    var weights: [Float]
    var residuals: [Float]
    var fps: Int
    var frames: Int { residuals.count }

    /// Fits every frame of `offsets` (frames × outputSize) with `retarget`, in order (warm start,
    /// smoothing).
    init(retarget: Retarget, offsets: Matrix, fps: Int) {
        names = retarget.names
        self.fps = fps
        var state = retarget.makeState()
        (weights, residuals) = retarget.solve(frames: offsets, state: &state)
    }

    /// The energy-weighted relative residual of the whole track against `offsets`.
    func overallResidual(_ offsets: Matrix) -> Double {
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
