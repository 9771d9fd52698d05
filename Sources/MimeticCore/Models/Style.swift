/// How a caller chooses the speaking style of an animation.
public enum StyleInput: Sendable {
    /// One training subject: the one-hot slot of FaceFormer/Imitator, or a row of a Mimic
    /// model's `style_codes`.
    case slot(Int)
    /// A blend over the slots (one weight per slot; FaceFormer/Imitator styles are linear in the
    /// one-hot input, so this is the style of the weighted mix).
    case weights([Float])
    /// A style vector given directly (d floats): a personalised Imitator style, a Mimic code.
    case code([Float])
    /// Mimic: a reference motion clip, [frames, 3V] vertex offsets from the template, encoded by
    /// the style encoder.
    case motion(Matrix)
}

/// Collects intermediate tensors by stage name (parity tests, `mimetic stages`).
public final class StageRecorder {
    public private(set) var stages: [String: Matrix] = [:]
    public init() {}
    func record(_ name: String, _ m: @autoclosure () -> Matrix) { stages[name] = m() }
}

/// The result of an offline run: per-frame vertex offsets from the template (3V floats per frame,
/// xyz interleaved), at the model's frame rate.
public struct Animation: Sendable {
    public let offsets: Matrix
    public let fps: Int
    public var frames: Int { offsets.rows }
}
