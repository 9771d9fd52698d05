import XCTest
@testable import MimeticCore

/// The blendshape fit: exact box-constrained least squares (KKT conditions on random problems,
/// warm and cold starts agree), degenerate bases, the artist's controls and their validation.
final class RetargetTests: XCTestCase {
    struct LCG {
        var state: UInt64
        mutating func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24) * 2 - 1
        }
    }

    func randomBasis(k: Int, size: Int, seed: UInt64) -> [Float] {
        var g = LCG(state: seed)
        return (0..<(k * size)).map { _ in g.next() }
    }

    /// KKT of min ½‖Bᵀw − x‖² + ½λ‖w‖², lo ≤ w ≤ hi: the gradient vanishes on free variables and
    /// points outward on bound ones.
    func assertKKT(_ r: Retarget, x: [Float], w: [Float], file: StaticString = #filePath, line: UInt = #line) {
        let k = r.count, n = r.outputSize
        var fitted = [Float](repeating: 0, count: n)
        w.withUnsafeBufferPointer { wp in fitted.withUnsafeMutableBufferPointer { r.offsets(weights: wp.baseAddress!, into: $0.baseAddress!) } }
        var scale = 0.0
        for i in 0..<k { for c in 0..<n { scale = max(scale, abs(Double(r.basis[i * n + c]) * Double(x[c]))) } }
        for i in 0..<k {
            var g = r.ridge * Double(w[i])
            for c in 0..<n { g += Double(r.basis[i * n + c]) * Double(fitted[c] - x[c]) }
            let lo = Double(r.lower[i]), hi = Double(r.upper[i]), tol = 1e-4 * scale * Double(n).squareRoot()
            XCTAssertTrue(Double(w[i]) >= lo - 1e-6 && Double(w[i]) <= hi + 1e-6, "w[\(i)] = \(w[i]) outside [\(lo), \(hi)]", file: file, line: line)
            if Double(w[i]) > lo + 1e-5 && Double(w[i]) < hi - 1e-5 { XCTAssertEqual(g, 0, accuracy: tol, "free w[\(i)]", file: file, line: line) }
            else if Double(w[i]) <= lo + 1e-5 { XCTAssertGreaterThan(g, -tol, "w[\(i)] at its lower bound", file: file, line: line) }
            else { XCTAssertLessThan(g, tol, "w[\(i)] at its upper bound", file: file, line: line) }
        }
    }

    func solve(_ r: Retarget, _ x: [Float], state: inout RetargetState) -> ([Float], Float) {
        var w = [Float](repeating: 0, count: r.count)
        let e = x.withUnsafeBufferPointer { xp in w.withUnsafeMutableBufferPointer { r.solve(offsets: xp.baseAddress!, into: $0.baseAddress!, state: &state) } }
        return (w, e)
    }

    func testExactOnRandomProblemsWithBoundsActive() throws {
        for seed in 1...20 {
            let k = 3 + seed % 30, n = 200
            let r = try Retarget(basis: randomBasis(k: k, size: n, seed: UInt64(seed)), names: (0..<k).map { "s\($0)" }, outputSize: n,
                                 lower: (0..<k).map { $0 % 5 == 0 ? -1 : 0 }, upper: (0..<k).map { $0 % 7 == 0 ? 0.3 : 1 })
            var g = LCG(state: UInt64(100 + seed))
            let x = (0..<n).map { _ in 3 * g.next() }
            var state = r.makeState()
            let (w, e) = solve(r, x, state: &state)
            assertKKT(r, x: x, w: w)
            XCTAssertTrue(e > 0 && e < 1.0001, "residual \(e)")
            // Warm start from this solution, and a cold one after reset, land on the same point.
            let (again, _) = solve(r, x, state: &state)
            state.reset()
            let (cold, _) = solve(r, x, state: &state)
            for i in 0..<k { XCTAssertEqual(again[i], w[i], accuracy: 1e-5); XCTAssertEqual(cold[i], w[i], accuracy: 1e-5) }
        }
    }

    /// A local basis (each shape nonzero on one window, as a rig's are; the frame size not a multiple
    /// of the projection's block), fitted frame after frame: the warm solve, which reuses the last
    /// Cholesky factor while the free set stays, lands where a cold one does, and satisfies KKT.
    func testLocalBasisStreamedWarmEqualsCold() throws {
        let k = 30, n = 1000
        var g = LCG(state: 42)
        var basis = [Float](repeating: 0, count: k * n)
        for i in 0..<k {
            let begin = Int((g.next() + 1) * 350), length = 50 + Int((g.next() + 1) * 125)
            for c in begin..<min(begin + length, n) { basis[i * n + c] = g.next() }
        }
        let r = try Retarget(basis: basis, names: (0..<k).map { "s\($0)" }, outputSize: n)
        var warm = r.makeState(), reuses = 0
        var truth = (0..<k).map { _ in 0.5 + 0.5 * g.next() }
        for frame in 0..<40 {
            truth = truth.map { $0 + 0.05 * g.next() }
            var x = [Float](repeating: 0, count: n)
            truth.withUnsafeBufferPointer { t in x.withUnsafeMutableBufferPointer { r.offsets(weights: t.baseAddress!, into: $0.baseAddress!) } }
            x = x.map { $0 + 0.01 * g.next() }
            let (w, e) = solve(r, x, state: &warm)
            if warm.lastIterations == 1 { reuses += 1 }
            var cold = r.makeState()
            let (wc, ec) = solve(r, x, state: &cold)
            for i in 0..<k { XCTAssertEqual(w[i], wc[i], accuracy: 1e-5, "frame \(frame), shape \(i)") }
            XCTAssertEqual(e, ec, accuracy: 1e-6)
            if frame % 10 == 0 { assertKKT(r, x: x, w: w) }
        }
        XCTAssertGreaterThan(reuses, 10, "a slowly moving stream mostly keeps its active set")
    }

    /// A frame holding NaN or Inf is refused (NaN back) and leaves the weights and the state as they were.
    func testNonFiniteFrameChangesNothing() throws {
        let k = 5, n = 130
        var smoothing = RetargetControls(count: k)
        smoothing.smoothingMs = 50
        let r = try Retarget(basis: randomBasis(k: k, size: n, seed: 5), names: (0..<k).map { "s\($0)" }, outputSize: n, controls: smoothing)
        var g = LCG(state: 9)
        let x = (0..<n).map { _ in g.next() }, y = (0..<n).map { _ in g.next() }
        var a = r.makeState(), b = r.makeState()
        _ = solve(r, x, state: &a)
        _ = solve(r, x, state: &b)
        for bad in [Float.nan, .infinity, -.infinity] {
            var z = y
            z[n - 1] = bad
            var w = [Float](repeating: 7, count: k)
            let e = z.withUnsafeBufferPointer { zp in w.withUnsafeMutableBufferPointer { r.solve(offsets: zp.baseAddress!, into: $0.baseAddress!, state: &a) } }
            XCTAssertTrue(e.isNaN)
            XCTAssertEqual(w, [Float](repeating: 7, count: k), "weights untouched")
        }
        XCTAssertEqual(solve(r, y, state: &a).0, solve(r, y, state: &b).0, "the state is as if the bad frames never came")
    }

    func testRecoversAnInteriorCombinationExactly() throws {
        let k = 12, n = 300
        let r = try Retarget(basis: randomBasis(k: k, size: n, seed: 7), names: (0..<k).map { "s\($0)" }, outputSize: n, relativeRidge: 0)
        let truth: [Float] = (0..<k).map { 0.05 + 0.9 * Float($0) / Float(k) }
        var x = [Float](repeating: 0, count: n)
        truth.withUnsafeBufferPointer { t in x.withUnsafeMutableBufferPointer { r.offsets(weights: t.baseAddress!, into: $0.baseAddress!) } }
        var state = r.makeState()
        let (w, e) = solve(r, x, state: &state)
        for i in 0..<k { XCTAssertEqual(w[i], truth[i], accuracy: 1e-4) }
        XCTAssertLessThan(e, 1e-3)
    }

    func testDegenerateBasesStayFiniteAndFeasible() throws {
        let n = 50
        var basis = randomBasis(k: 4, size: n, seed: 3)
        basis.replaceSubrange(n..<(2 * n), with: basis[0..<n])                         // shape 1 = shape 0
        basis.replaceSubrange((3 * n)..<(4 * n), with: [Float](repeating: 0, count: n)) // shape 3 empty
        let r = try Retarget(basis: basis, names: ["a", "a2", "b", "zero"], outputSize: n)
        var state = r.makeState()
        let x = Array(basis[0..<n].map { $0 * 0.8 })
        let (w, _) = solve(r, x, state: &state)
        XCTAssertTrue(w.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 })
        XCTAssertEqual(w[0] + w[1], 0.8, accuracy: 1e-3, "the duplicate pair shares the weight")
        XCTAssertEqual(w[0], w[1], accuracy: 1e-3, "the ridge splits it evenly")
        XCTAssertEqual(w[3], 0, "an empty shape stays at 0")
        var zero = [Float](repeating: 0, count: n)
        let (wz, ez) = solve(r, zero, state: &state)
        XCTAssertEqual(ez, 0)
        XCTAssertTrue(wz.allSatisfy { $0 == 0 })
        zero[0] = 1
        XCTAssertNoThrow(solve(r, zero, state: &state))
    }

    func testControlsStrengthGainClampAndSmoothing() throws {
        let n = 30
        let r = try Retarget(basis: randomBasis(k: 2, size: n, seed: 11), names: ["a", "b"], outputSize: n, relativeRidge: 0)
        var x = [Float](repeating: 0, count: n)
        [Float(0.5), 0.25].withUnsafeBufferPointer { t in x.withUnsafeMutableBufferPointer { r.offsets(weights: t.baseAddress!, into: $0.baseAddress!) } }
        var c = RetargetControls(count: 2)
        c.strength = 2
        c.gain[1] = 0.5
        c.offset[1] = 0.1
        c.maximum[0] = 0.8
        let tuned = try Retarget(r, controls: c)
        var state = tuned.makeState()
        let (w, _) = solve(tuned, x, state: &state)
        XCTAssertEqual(w[0], 0.8, accuracy: 1e-5, "2 x 0.5 clamped to 0.8")
        XCTAssertEqual(w[1], 2 * 0.5 * 0.25 + 0.1, accuracy: 1e-5)
        // One-pole smoothing: a step from 0 reaches 1 − exp(−t/τ).
        var s = RetargetControls(count: 2)
        s.smoothingMs = 100
        s.fps = 30
        let smooth = try Retarget(r, controls: s)
        var st = smooth.makeState()
        let zero = [Float](repeating: 0, count: n)
        _ = solve(smooth, zero, state: &st)
        var last: [Float] = []
        for _ in 0..<3 { last = solve(smooth, x, state: &st).0 }
        let expected = 0.5 * (1 - Float(exp(-3.0 * (1000.0 / 30) / 100)))
        XCTAssertEqual(last[0], expected, accuracy: 1e-4)
    }

    func testValidationNamesTheProblem() throws {
        let n = 6, basis = randomBasis(k: 2, size: n, seed: 1)
        XCTAssertThrowsError(try Retarget(basis: basis, names: ["a", "a"], outputSize: n)) { XCTAssertTrue("\($0)".contains("distinct")) }
        XCTAssertThrowsError(try Retarget(basis: basis, names: ["a"], outputSize: n)) { XCTAssertTrue("\($0)".contains("need")) }
        XCTAssertThrowsError(try Retarget(basis: basis, names: ["a", "b"], outputSize: n, lower: [0, 2], upper: [1, 1])) {
            XCTAssertTrue("\($0)".contains("lower <= upper"))
        }
        var bad = basis
        bad[3] = .nan
        XCTAssertThrowsError(try Retarget(basis: bad, names: ["a", "b"], outputSize: n)) { XCTAssertTrue("\($0)".contains("not finite")) }
        let r = try Retarget(basis: basis, names: ["a", "b"], outputSize: n)
        for (edit, fragment) in [({ (c: inout RetargetControls) in c.strength = 5 }, "strength"),
                                 ({ (c: inout RetargetControls) in c.smoothingMs = -1 }, "smoothing"),
                                 ({ (c: inout RetargetControls) in c.gain[0] = .infinity }, "gain of channel 0"),
                                 ({ (c: inout RetargetControls) in c.offset[1] = 20 }, "offset of channel 1"),
                                 ({ (c: inout RetargetControls) in c.minimum[1] = 2; c.maximum[1] = 1 }, "min <= max")] {
            var c = RetargetControls(count: 2)
            edit(&c)
            XCTAssertThrowsError(try Retarget(r, controls: c)) { XCTAssertTrue("\($0)".contains(fragment), "\($0)") }
        }
    }

    func testShippedARKitBasisFitsTheDefaultModel() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let model = try MimeticModel(path: root.appendingPathComponent("models/default.safetensors").path)
        let r = try Retarget(path: root.appendingPathComponent("models/arkit52.safetensors").path, outputSize: model.outputSize)
        XCTAssertEqual(r.count, 52)
        XCTAssertEqual(r.names[17], "jawOpen")
        let wav = try readWAV(path: root.appendingPathComponent("models/samples/bumblebees.wav").path)
        let frames = try model.animate(audio: model.speech(wav.samples, sampleRate: wav.sampleRate, name: "sample"), style: .slot(0)).offsets
        var state = r.makeState()
        var w = [Float](repeating: 0, count: 52)
        var num = 0.0, den = 0.0
        var jawMax: Float = 0
        var iterations = 0
        frames.data.withUnsafeBufferPointer { fp in
            for t in 0..<frames.rows {
                let x = fp.baseAddress! + t * frames.cols
                let e = w.withUnsafeMutableBufferPointer { r.solve(offsets: x, into: $0.baseAddress!, state: &state) }
                iterations += state.lastIterations
                var xx = 0.0
                for c in 0..<frames.cols { xx += Double(x[c]) * Double(x[c]) }
                num += Double(e * e) * xx
                den += xx
                jawMax = max(jawMax, w[17])
            }
        }
        let relative = (num / den).squareRoot()
        print("ARKit-52 fit of the default model on bumblebees.wav: relative residual \(relative) over \(frames.rows) frames, max jawOpen \(jawMax), \(Double(iterations) / Double(frames.rows)) active-set iterations a frame")
        XCTAssertLessThan(relative, 0.05)
        XCTAssertGreaterThan(jawMax, 0.1, "the jaw opens")
    }
}
