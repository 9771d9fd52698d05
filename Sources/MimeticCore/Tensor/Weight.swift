/// A read-only view of a weight tensor inside a loaded model (memory-mapped file or widened f16 copy).
/// Its memory is owned by the `TensorStore` that produced it, which every model keeps alive.
public struct Weight: @unchecked Sendable {
    public let pointer: UnsafePointer<Float>
    public let shape: [Int]
    public let name: String

    public var count: Int { shape.reduce(1, *) }
    public var buffer: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: pointer, count: count) }
    public subscript(i: Int) -> Float { pointer[i] }
    public func toArray() -> [Float] { Array(buffer) }
}

/// Heap memory freed when the last reference goes: the backing of widened or realigned weights.
final class FloatStorage: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int
    init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    /// Storage the caller fills whole at once (a widened tensor): not zeroed first, which for a
    /// full-size float16 model saved writing 370 MB twice at load.
    init(uninitializedCount count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
    }
    deinit { pointer.deallocate() }
}
