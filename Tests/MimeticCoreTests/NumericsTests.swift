import Foundation
import XCTest
@testable import MimeticCore

/// The building blocks against straightforward scalar definitions.
final class NumericsTests: XCTestCase {
    func testVectorisedErfMatchesLibm() {
        var worst: Float = 0
        var x: Float = -6
        while x <= 6 {
            worst = max(worst, abs(Activations.erf(x) - Foundation.erff(x)))
            x += 0.001
        }
        XCTAssertLessThan(worst, 5e-7, "erf approximation error \(worst)")
    }

    func testVectorisedExpMatchesLibm() {
        var worst: Float = 0
        var x: Float = -87
        while x < 88 {
            let e = Activations.exp(SIMD8(repeating: x))[0], r = Foundation.expf(x)
            worst = max(worst, abs(e - r) / r)
            x += 0.0037
        }
        XCTAssertLessThan(worst, 3e-7)
        XCTAssertEqual(Activations.exp(SIMD8(repeating: -1000))[0], 0)
    }

    func testGeluIsExactErfForm() {
        var xs = (0..<1000).map { Float($0) / 50 - 10 }
        let expected = xs.map { 0.5 * $0 * (1 + Foundation.erff($0 / 2.0.squareRoot().float)) }
        xs.withUnsafeMutableBufferPointer { Activations.gelu($0.baseAddress!, count: $0.count) }
        for (a, b) in zip(xs, expected) { XCTAssertEqual(a, b, accuracy: 1e-6 * max(1, abs(b))) }
    }

    func testALiBiSlopesMatchFaceFormer() {
        XCTAssertEqual(ALiBi.slopes(heads: 4), [0.25, 0.0625, 0.015625, 0.00390625])
        XCTAssertEqual(ALiBi.slopes(heads: 8).first, 0.5)
        // Non power of two: 4 slopes of n=4 then every other slope of n=8.
        let s6 = ALiBi.slopes(heads: 6)
        XCTAssertEqual(Array(s6.prefix(4)), ALiBi.slopes(heads: 4))
        XCTAssertEqual(Array(s6.suffix(2)), [ALiBi.slopes(heads: 8)[0], ALiBi.slopes(heads: 8)[2]])
    }

    /// docs/reference-notes.md, pitfall 1: the originals compute frame counts in float64.
    func testFrameCountsFollowPythonFloatArithmetic() {
        XCTAssertEqual(FrameAlignment.interpolatedFrames(cnnFrames: 205, fps: 30, offset: 0), 122)
        XCTAssertEqual(FrameAlignment.interpolatedFrames(cnnFrames: 845, fps: 30, offset: 0), 506)
        XCTAssertEqual(FrameAlignment.interpolatedFrames(cnnFrames: 299, fps: 25, offset: 1), 150)
    }

    func testLinearInterpolationAlignCorners() {
        let x = Matrix(rows: 3, cols: 1, data: [0, 10, 20])
        let y = FrameAlignment.interpolateLinear(x, to: 5)
        XCTAssertEqual(y.data, [0, 5, 10, 15, 20])
        XCTAssertEqual(FrameAlignment.interpolateLinear(x, to: 1).data, [0])
    }

    func testLayerNormMatchesDefinition() {
        var x: [Float] = [1, 2, 3, 4, -1, 0, 1, 7]
        let g: [Float] = [1, 2, 1, 0.5], b: [Float] = [0, 1, 0, -1]
        Norm.layerNorm(&x, rows: 2, cols: 4, gamma: g, beta: b, eps: 1e-5)
        let row: [Float] = [1, 2, 3, 4]
        let mean: Float = 2.5, variance: Float = 1.25
        for c in 0..<4 { XCTAssertEqual(x[c], (row[c] - mean) / (variance + 1e-5).squareRoot() * g[c] + b[c], accuracy: 1e-5) }
    }

    func testSoftmax() {
        var x: [Float] = [1, 2, 3, 1000]
        Norm.softmax(&x, count: 4)
        XCTAssertEqual(x[3], 1, accuracy: 1e-6)
        var z = (0..<37).map { Float($0) * 0.3 - 4 }
        let m = z.max()!, denominator = z.reduce(Float(0)) { $0 + Foundation.expf($1 - m) }
        let expected = z.map { Foundation.expf($0 - m) / denominator }
        Norm.softmax(&z, count: z.count)
        for (a, b) in zip(z, expected) { XCTAssertEqual(a, b, accuracy: 1e-7) }
        var masked: [Float] = [0, -.infinity, 1, 2, 3, 4, 5, 6, 7]
        Norm.softmax(&masked, count: masked.count)
        XCTAssertEqual(masked[1], 0)
        var y: [Float] = [0, 0]
        Norm.softmax(&y, count: 2)
        XCTAssertEqual(y, [0.5, 0.5])
    }

    /// Convolution as GEMM (all three paths: direct strided, chunked im2col, grouped+padded)
    /// against the textbook sum.
    /// The small-row kernel streams use (Sources/CKernels) against a plain double-precision sum,
    /// over the shapes that hit its 4-row blocks, its tails, strides and beta.
    func testSmallRowProductsAgainstNaiveSum() {
        var seed: UInt64 = 0x9E3779B97F4A7C15
        func random() -> Float { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return Float(Int64(bitPattern: seed >> 11) % 2001 - 1000) / 1000 }
        for (m, n, k) in [(1, 1, 1), (1, 13710, 128), (3, 7, 9), (8, 33, 70), (5, 4, 8), (2, 130, 257)] {
            for beta: Float in [0, 1] {
                let lda = k + 3, ldb = k + 5, ldc = n + 2
                let a = (0..<(m * lda)).map { _ in random() }, b = (0..<(n * ldb)).map { _ in random() }
                var c = (0..<(m * ldc)).map { _ in random() }
                let c0 = c
                BLAS.gemmNT(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: &c, ldc: ldc, beta: beta)
                var worst = 0.0
                for i in 0..<m {
                    for j in 0..<n {
                        var s = Double(beta) * Double(c0[i * ldc + j])
                        for p in 0..<k { s += Double(a[i * lda + p]) * Double(b[j * ldb + p]) }
                        worst = max(worst, abs(s - Double(c[i * ldc + j])) / (1 + abs(s)))
                    }
                    XCTAssertEqual(Array(c[(i * ldc + n)..<(i * ldc + ldc)]), Array(c0[(i * ldc + n)..<(i * ldc + ldc)]), "wrote past the row")
                }
                XCTAssertLessThan(worst, 1e-5, "m \(m) n \(n) k \(k) beta \(beta)")
            }
        }
    }

    func testConv1dAgainstNaiveSum() throws {
        let cases: [(cin: Int, cout: Int, k: Int, s: Int, p: Int, g: Int, n: Int)] = [
            (1, 8, 10, 5, 0, 1, 200), (6, 5, 3, 2, 0, 1, 50), (6, 4, 2, 2, 0, 1, 33), (8, 8, 4, 1, 2, 4, 20), (4, 6, 15, 2, 7, 1, 31),
        ]
        for c in cases {
            var rng = SplitMix(seed: UInt64(c.k * 100 + c.cin))
            let w = (0..<(c.cout * c.k * c.cin / c.g)).map { _ in rng.nextFloat() }
            let bias = (0..<c.cout).map { _ in rng.nextFloat() }
            let x = Matrix(rows: c.n, cols: c.cin, data: (0..<(c.n * c.cin)).map { _ in rng.nextFloat() })
            let store = try makeStore(["conv.weight": (w, [c.cout, c.k, c.cin / c.g]), "conv.bias": (bias, [c.cout])])
            let conv = try Conv1d(store, "conv", in: c.cin, out: c.cout, kernel: c.k, stride: c.s, padding: c.p, groups: c.g, bias: true)
            let y = conv(x)
            let outLen = (c.n + 2 * c.p - c.k) / c.s + 1
            XCTAssertEqual(y.rows, outLen)
            let inPer = c.cin / c.g, outPer = c.cout / c.g
            for t in 0..<outLen {
                for o in 0..<c.cout {
                    let g = o / outPer
                    var acc = bias[o]
                    for kk in 0..<c.k {
                        let ti = t * c.s + kk - c.p
                        guard ti >= 0 && ti < c.n else { continue }
                        for i in 0..<inPer { acc += w[(o * c.k + kk) * inPer + i] * x[ti, g * inPer + i] }
                    }
                    XCTAssertEqual(y[t, o], acc, accuracy: 1e-4, "case \(c) t=\(t) o=\(o)")
                }
            }
        }
    }
}

extension Double { var float: Float { Float(self) } }

/// Deterministic test numbers.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
    mutating func nextFloat() -> Float { Float(next() >> 40) / Float(1 << 24) * 2 - 1 }
}

/// An in-memory safetensors file from named float arrays (metadata optional).
func safetensorsBytes(_ tensors: [String: ([Float], [Int])], metadata: [String: String] = [:], dtype: String = "F32") -> [UInt8] {
    var header: [String: Any] = [:]
    if !metadata.isEmpty { header["__metadata__"] = metadata }
    var data: [UInt8] = []
    for name in tensors.keys.sorted() {
        let (values, shape) = tensors[name]!
        let begin = data.count
        if dtype == "F16" {
            for v in values { withUnsafeBytes(of: Float16(v).bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        } else {
            for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        }
        header[name] = ["dtype": dtype, "shape": shape, "data_offsets": [begin, data.count]]
    }
    var json = try! JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
    while json.count % 8 != 0 { json.append(0x20) }
    var out: [UInt8] = []
    withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
    out.append(contentsOf: json)
    out.append(contentsOf: data)
    return out
}

func makeStore(_ tensors: [String: ([Float], [Int])], metadata: [String: String] = [:]) throws -> TensorStore {
    let bytes = safetensorsBytes(tensors, metadata: metadata)
    return try bytes.withUnsafeBytes { try TensorStore(bytes: $0, source: "test") }
}
