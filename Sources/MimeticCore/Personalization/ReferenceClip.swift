/// A recording of the person to imitate: speech and the tracked meshes of the same moments, in the
/// model's topology and frame rate.
public struct ReferenceClip: Sendable {
    public var audio: [Float]            // mono 16 kHz
    public var offsets: Matrix           // [frames, 3V] vertex offsets from the model's template
    public var bilabialFrames: [Int]     // frames of m/b/p closures (may be empty)
    public init(audio: [Float], offsets: Matrix, bilabialFrames: [Int] = []) {
        self.audio = audio
        self.offsets = offsets
        self.bilabialFrames = bilabialFrames
    }
}
