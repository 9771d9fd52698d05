/// The result of an offline run: per-frame vertex offsets from the template (3V floats per frame,
/// xyz interleaved), at the model's frame rate.
public struct Animation: Sendable {
    public let offsets: Matrix
    public let fps: Int
    public var frames: Int { offsets.rows }
}
