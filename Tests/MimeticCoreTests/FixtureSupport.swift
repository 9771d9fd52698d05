import Foundation
import XCTest
@testable import MimeticCore

/// Locates the committed golden fixtures (written by tools/make_fixtures.py from the PyTorch
/// reference) relative to this source file, so tests run from any working directory.
enum Fixtures {
    static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    static func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: path(name)) }

    /// Every tensor of a fixture file as a matrix (1-D tensors become one column).
    static func tensors(_ name: String) throws -> (tensors: [String: Matrix], metadata: [String: String]) {
        let store = try TensorStore(path: path(name))
        var out: [String: Matrix] = [:]
        for n in store.tensorNames {
            let shape = store.shape(of: n)!
            let w = try store.weight(n, shape: shape)
            let rows = shape.count >= 2 ? shape[0] : (shape.first ?? 1)
            let cols = shape.count >= 2 ? shape.dropFirst().reduce(1, *) : 1
            out[n] = Matrix(rows: rows, cols: cols, data: w.toArray())
        }
        return (out, store.metadata)
    }

    /// max |a − b| relative to max |b| (the stage's output scale).
    static func relativeError(_ a: Matrix, _ b: Matrix) -> Float {
        var diff: Float = 0, scale: Float = 0
        for i in 0..<b.count {
            diff = max(diff, abs(a.data[i] - b.data[i]))
            scale = max(scale, abs(b.data[i]))
        }
        return diff / max(scale, 1e-30)
    }
}
