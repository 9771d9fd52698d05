import Foundation
import XCTest
@testable import MimeticCore

final class PersonalizationTests: XCTestCase {
    /// The closed-form gradients of the adaptation objective against PyTorch autograd (float64)
    /// on the fixture model (tools/make_personalization_fixture.py).
    func testGradientsMatchAutograd() throws {
        let model = try MimeticModel(path: Fixtures.path("imitator_zeros.model.safetensors"))
        guard case .imitator(let head) = model.head else { return XCTFail("not imitator") }
        let (t, _) = try Fixtures.tensors("personalization_gradients.safetensors")
        let clips = (0..<2).map { i in
            AdaptationObjective.Clip(features: t["clip\(i)_features"]!, target: t["clip\(i)_target"]!,
                                     frameWeights: t["clip\(i)_frame_weights"]!.data)
        }
        let objective = AdaptationObjective(head: head, d: model.config.decoder.d_model, outputs: model.outputSize)
        let g = objective.evaluate(clips, style: t["style"]!.data, weight: head.motionOut.weight.pointer,
                                   bias: head.motionOut.bias!.pointer, gradients: true, basisGradients: true)
        let refLoss = Double(t["loss"]!.data[0])
        XCTAssertEqual(g.loss, refLoss, accuracy: 1e-4 * abs(refLoss))
        func check(_ got: [Float], _ ref: Matrix, _ name: String) {
            let err = Fixtures.relativeError(Matrix(rows: got.count, cols: 1, data: got), Matrix(rows: ref.count, cols: 1, data: ref.data))
            print("adaptation gradient \(name): relative error \(err)")
            XCTAssertLessThanOrEqual(err, 1e-4, name)
        }
        check(g.style, t["grad_style"]!, "style")
        check(g.weight!, t["grad_weight"]!, "basis weight")
        check(g.bias!, t["grad_bias"]!, "basis bias")
    }

    /// A speaker made by the model itself with another style and a perturbed basis is recovered:
    /// the held-out error falls well below the generalized model's.
    func testAdaptationRecoversAKnownSpeaker() throws {
        let model = try MimeticModel(path: Fixtures.path("imitator_zeros.model.safetensors"))
        guard case .imitator(let head) = model.head else { return XCTFail("not imitator") }
        let (e, _) = try Fixtures.tensors("imitator_zeros.expected.safetensors")
        let audio = e["audio"]!.data
        let half = audio.count / 2
        let pieces = [Array(audio[0..<half]), Array(audio[half...]), audio]
        // The "true" speaker: style 0.7·slot2 + 0.3·slot1, basis scaled by 1.2 (a broader speaker).
        let trueStyle = try model.styleVector(.weights([0, 0.3, 0.7]))
        func speak(_ a: [Float]) throws -> Matrix {
            let f = try model.audioFeatures(a)
            let v = try model.decodeHidden(f, styleVector: trueStyle)
            var y = head.motion(v, style: trueStyle)
            for i in 0..<y.count { y.data[i] *= 1.2 }
            return y
        }
        let clips = try pieces.map { ReferenceClip(audio: $0, offsets: try speak($0), bilabialFrames: [3, 9]) }
        var options = AdaptationOptions()
        options.heldOutClip = 2
        options.styleSteps = 100
        options.basisSteps = 100
        var calls = 0
        let persona = try ImitatorAdaptation.adapt(model: model, clips: clips, options: options) { _ in calls += 1; return true }
        XCTAssertGreaterThan(calls, 0)
        // Held-out error: generalized (slot 0) vs adapted.
        func error(_ offsets: Matrix, _ target: Matrix) -> Double {
            var s = 0.0
            for i in 0..<min(offsets.count, target.count) { let d = Double(offsets.data[i] - target.data[i]); s += d * d }
            return s / Double(target.count)
        }
        let target = clips[2].offsets
        let generalized = try model.animate(audio: audio, style: .slot(0)).offsets
        let adapted = try model.animate(audio: audio, persona: persona).offsets
        // The persona survives a file round trip and still produces the same animation.
        let path = NSTemporaryDirectory() + "persona-\(UUID().uuidString).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try persona.write(path: path, family: model.family)
        let loaded = try Persona.load(path: path, for: model)
        XCTAssertEqual(loaded.style, persona.style)
        XCTAssertEqual(try model.animate(audio: audio, persona: loaded).offsets, adapted)
        let other = try MimeticModel(path: Fixtures.path("imitator_style.model.safetensors"))
        XCTAssertThrowsError(try Persona.load(path: path, for: other)) { XCTAssertTrue("\($0)".contains("made for the model"), "\($0)") }
        let before = error(generalized, target), after = error(adapted, target)
        print("adaptation on a known speaker: held-out MSE \(before) -> \(after)")
        XCTAssertLessThan(after, 0.3 * before)
        XCTAssertEqual(persona.modelFingerprint, model.fingerprint)
    }

    func testAdaptationRefusesOtherFamiliesAndBadClips() throws {
        let ff = try MimeticModel(path: Fixtures.path("faceformer_vocaset.model.safetensors"))
        XCTAssertThrowsError(try ImitatorAdaptation.adapt(model: ff, clips: [ReferenceClip(audio: [0], offsets: Matrix(zeros: 1, 120))]))
        let im = try MimeticModel(path: Fixtures.path("imitator_zeros.model.safetensors"))
        XCTAssertThrowsError(try ImitatorAdaptation.adapt(model: im, clips: []))
        let (e, _) = try Fixtures.tensors("imitator_zeros.expected.safetensors")
        XCTAssertThrowsError(try ImitatorAdaptation.adapt(model: im, clips: [ReferenceClip(audio: e["audio"]!.data, offsets: Matrix(zeros: 10, 120))])) {
            XCTAssertTrue("\($0)".contains("frames"), "\($0)")
        }
        var cancelled = false
        XCTAssertThrowsError(try ImitatorAdaptation.adapt(model: im, clips: [ReferenceClip(audio: e["audio"]!.data, offsets: Matrix(zeros: 47, 120))]) { _ in cancelled = true; return false }) {
            XCTAssertEqual($0 as? MimeticError, .cancelled)
        }
        XCTAssertTrue(cancelled)
    }
}
