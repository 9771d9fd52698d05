import Dispatch

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

/// Wall-clock time per named stage (benchmarks, `mimetic bench`).
public final class StageTimer {
    public private(set) var seconds: [String: Double] = [:]
    public init() {}
    func start() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
    func lap(_ name: String, _ clock: inout UInt64?) {
        guard let c = clock else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        seconds[name, default: 0] += Double(now - c) / 1e9
        clock = now
    }
}
