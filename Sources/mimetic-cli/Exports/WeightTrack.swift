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
        let k = retarget.count
        var w = [Float](repeating: 0, count: offsets.rows * k)
        var e = [Float](repeating: 0, count: offsets.rows)
        offsets.data.withUnsafeBufferPointer { x in
            w.withUnsafeMutableBufferPointer { wp in
                for t in 0..<offsets.rows {
                    e[t] = retarget.solve(offsets: x.baseAddress! + t * offsets.cols, into: wp.baseAddress! + t * k, state: &state)
                }
            }
        }
        weights = w
        residuals = e
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
