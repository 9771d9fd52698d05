/// Blendshape weights over time: what `mimetic animate --weights` makes of an animation, and what
/// the glTF and Live Link exports write (`GLTFExport`, `LiveLinkCSVExport`).
public struct WeightTrack {
    public var names: [String]
    /// frames × names.count, frame-major.
    public var weights: [Float]
    public var fps: Int
    public var frames: Int { weights.count / names.count }

    /// A track of fitted weights (`Retarget.solve(frames:state:)`, a stream's `pull_weights`):
    /// `weights.count` must be a whole number of frames of `names.count`, every weight finite.
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
    }
}
