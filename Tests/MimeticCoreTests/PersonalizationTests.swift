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
        var objective = AdaptationObjective(head: head, d: model.config.decoder.d_model, outputs: model.outputSize)
        let pairs = t["lip_pairs"]!
        objective.lipPairs = (0..<pairs.cols).map { (Int(pairs[0, $0]), Int(pairs[1, $0])) }
        objective.lipClosureWeight = 2
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
    /// A "true" speaker made from the model itself: style 0.7·slot2 + 0.3·slot1 and the motion basis
    /// scaled by 1.2 (a broader speaker, which only stage 2 can express). Three reference clips (two
    /// halves and the whole audio); the whole one is held out for early stopping and for scoring.
    private func adaptToKnownSpeaker(_ model: MimeticModel) throws -> (persona: Persona, generalizedMSE: Double, adaptedMSE: Double, audio: [Float]) {
        guard case .imitator(let head) = model.head else { throw MimeticError.invalidArgument("not imitator") }
        let (e, _) = try Fixtures.tensors("imitator_zeros.expected.safetensors")
        let audio = e["audio"]!.data
        let half = audio.count / 2
        let pieces = [Array(audio[0..<half]), Array(audio[half...]), audio]
        let trueStyle = try model.styleVector(.weights([0, 0.3, 0.7]))
        func speak(_ a: [Float]) throws -> Matrix {
            let f = try model.audioFeatures(a)
            let v = model.decodeHidden(f, styleVector: trueStyle)
            return head.motion(v, style: trueStyle).scaled(by: 1.2)
        }
        let clips = try pieces.map { ReferenceClip(audio: $0, offsets: try speak($0), bilabialFrames: [3, 9]) }
        var options = AdaptationOptions()
        options.heldOutClip = 2
        options.styleSteps = 100
        options.basisSteps = 100
        var calls = 0
        let persona = try ImitatorAdaptation.adapt(model: model, clips: clips, options: options) { _ in calls += 1; return true }
        XCTAssertGreaterThan(calls, 0)
        func mse(_ offsets: Matrix, _ target: Matrix) -> Double {
            var s = 0.0
            for i in 0..<min(offsets.count, target.count) { let d = Double(offsets.data[i] - target.data[i]); s += d * d }
            return s / Double(target.count)
        }
        let target = clips[2].offsets
        let generalized = try model.animate(audio: audio, style: .slot(0)).offsets
        let adapted = try model.animate(audio: audio, persona: persona).offsets
        return (persona, mse(generalized, target), mse(adapted, target), audio)
    }

    func testAdaptationRecoversAKnownSpeaker() throws {
        let model = try MimeticModel(path: Fixtures.path("imitator_zeros.model.safetensors"))
        let (persona, before, after, audio) = try adaptToKnownSpeaker(model)
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
        print("adaptation on a known speaker: held-out MSE \(before) -> \(after)")
        XCTAssertLessThan(after, 0.3 * before)
        XCTAssertEqual(persona.modelFingerprint, model.fingerprint)
    }

    /// `start: .best` starts from whichever of the mean style and the slots fits the reference best
    /// (here the reference is slot 2's own motion), and the provenance says where it started and
    /// whether the held-out clip improved.
    func testBestStartAndTheProvenanceOfARunThatCannotImprove() throws {
        let model = try MimeticModel(path: Fixtures.path("imitator_zeros.model.safetensors"))
        let (e, _) = try Fixtures.tensors("imitator_zeros.expected.safetensors")
        let audio = e["audio"]!.data
        let half = audio.count / 2
        let clips = try [Array(audio[0..<half]), Array(audio[half...])].map {
            ReferenceClip(audio: $0, offsets: try model.animate(audio: $0, style: .slot(2)).offsets)
        }
        var options = AdaptationOptions()
        options.start = .best
        options.styleSteps = 20
        options.basisSteps = 0
        let persona = try ImitatorAdaptation.adapt(model: model, clips: clips, options: options)
        XCTAssertTrue(persona.provenance["initial_style"]!.hasPrefix("slot 2"), persona.provenance["initial_style"]!)
        // Starting at the exact answer, no step can improve the held-out clip: the persona says so.
        XCTAssertTrue(persona.provenance["held_out_change"]!.hasPrefix("none"), persona.provenance["held_out_change"]!)
        XCTAssertEqual(persona.style, try model.styleVector(.slot(2)))
        options.start = .mean
        let fromMean = try ImitatorAdaptation.adapt(model: model, clips: clips, options: options)
        XCTAssertTrue(fromMean.provenance["initial_style"]!.hasPrefix("mean"))
        XCTAssertTrue(fromMean.provenance["held_out_change"]!.hasSuffix("%"), fromMean.provenance["held_out_change"]!)
    }

    /// `folds` = k: k runs, each early-stopped on another of the first k clips, averaged: the persona
    /// is exactly the mean of the single runs with those held-out clips, and says how each moved.
    func testFoldsAverageTheRunsStoppedOnEachClip() throws {
        let model = try MimeticModel(path: Fixtures.path("imitator_zeros.model.safetensors"))
        let (e, _) = try Fixtures.tensors("imitator_zeros.expected.safetensors")
        let audio = e["audio"]!.data
        let third = audio.count / 3
        let clips = try [Array(audio[0..<third]), Array(audio[third..<(2 * third)]), Array(audio[(2 * third)...])].map {
            ReferenceClip(audio: $0, offsets: try model.animate(audio: $0, style: .weights([0.2, 0.5, 0.3])).offsets.scaled(by: 1.1))
        }
        var options = AdaptationOptions()
        options.styleSteps = 20
        options.basisSteps = 10
        options.folds = 2
        var totals = Set<Int>()
        let folded = try ImitatorAdaptation.adapt(model: model, clips: clips, options: options) { totals.insert($0.totalSteps); return true }
        XCTAssertEqual(totals, [60], "two runs of 20 + 10 steps")
        options.folds = 0
        let runs = try (0..<2).map { i -> Persona in
            options.heldOutClip = i
            return try ImitatorAdaptation.adapt(model: model, clips: clips, options: options)
        }
        for i in folded.style.indices { XCTAssertEqual(folded.style[i], (runs[0].style[i] + runs[1].style[i]) / 2, accuracy: 1e-5) }
        let w = folded.basisWeightDelta!, w0 = runs[0].basisWeightDelta!, w1 = runs[1].basisWeightDelta!
        for i in stride(from: 0, to: w.count, by: 97) { XCTAssertEqual(w[i], (w0[i] + w1[i]) / 2, accuracy: 1e-5) }
        XCTAssertEqual(folded.provenance["folds"], "2")
        XCTAssertTrue(folded.provenance["held_out_change"]!.hasPrefix("per fold "), folded.provenance["held_out_change"]!)
        XCTAssertEqual(runs[0].provenance["folds"], "1")
        options.folds = 65
        XCTAssertThrowsError(try ImitatorAdaptation.adapt(model: model, clips: clips, options: options)) {
            XCTAssertTrue("\($0)".contains("folds 65 is outside 0...64"), "\($0)")
        }
    }

    /// Models trained on metres have a motion basis of O(1e-3) and losses of O(1e-6): adaptation must
    /// work as well there as in the fixture's O(1) units (Adam's step and epsilon are absolute, so a
    /// raw 1e-3 step on such a basis wrecked stage 2, which early stopping then silently undid).
    func testAdaptationDoesNotDependOnTheMotionUnits() throws {
        let unit: Float = 1e-3
        let original = try MimeticModel(path: Fixtures.path("imitator_zeros.model.safetensors"))
        let store = try TensorStore(path: Fixtures.path("imitator_zeros.model.safetensors"))
        var tensors: [String: SafeTensorsWriter.Tensor] = [:]
        for name in store.tensorNames {
            let shape = store.shape(of: name)!
            if let (ints, _) = try? store.int32s(name) {
                tensors[name] = .i32(ints, shape)
            } else {
                var values = try store.weight(name, shape: shape).toArray()
                if name.hasPrefix("motion_out.") { values = values.map { $0 * unit } }
                tensors[name] = .f32(values, shape)
            }
        }
        let path = NSTemporaryDirectory() + "millimetre-model-\(UUID().uuidString).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try SafeTensorsWriter.write(path: path, tensors: tensors, metadata: store.metadata)
        let scaled = try MimeticModel(path: path)
        let a = try adaptToKnownSpeaker(original), b = try adaptToKnownSpeaker(scaled)
        print("known speaker, held-out MSE relative to the generalized model: O(1) units \(a.adaptedMSE / a.generalizedMSE), 1e-3 units \(b.adaptedMSE / b.generalizedMSE)")
        XCTAssertLessThan(b.adaptedMSE, 0.3 * b.generalizedMSE)
        XCTAssertEqual(b.adaptedMSE / b.generalizedMSE, a.adaptedMSE / a.generalizedMSE, accuracy: 0.02)
        // The basis change comes back in the model's own units.
        let rms = { (v: [Float]) in (v.reduce(0) { $0 + Double($1) * Double($1) } / Double(v.count)).squareRoot() }
        XCTAssertEqual(rms(b.persona.basisWeightDelta!) / rms(a.persona.basisWeightDelta!), Double(unit), accuracy: Double(unit) * 0.05)
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

final class PersonaStreamingTests: XCTestCase {
    func adaptedPersona(_ model: MimeticModel, audio: [Float]) throws -> Persona {
        let target = try model.animate(audio: audio, style: .slot(2)).offsets
        var o = AdaptationOptions()
        o.styleSteps = 10
        o.basisSteps = 10
        return try ImitatorAdaptation.adapt(model: model, clips: [ReferenceClip(audio: audio, offsets: target)], options: o)
    }

    /// The per-frame decoder a stream runs, with the persona's basis change, equals offline
    /// animation with the persona given the same audio features.
    func testStreamingDecoderWithPersonaBasisMatchesOffline() throws {
        let model = try MimeticModel(path: Fixtures.path("imitator_zeros.model.safetensors"))
        let (e, _) = try Fixtures.tensors("imitator_zeros.expected.safetensors")
        let audio = e["audio"]!.data
        let persona = try adaptedPersona(model, audio: audio)
        let offline = try model.animate(audio: audio, persona: persona).offsets
        let feats = try model.audioFeatures(audio)
        let fd = model.frameDecoder
        let state = FloatStorage(count: fd.layout.floats)
        persona.style.withUnsafeBufferPointer { fd.begin(state.pointer, style: $0.baseAddress!, initialOffsets: nil) }
        let delta = persona.basisWeightDelta! + persona.basisBiasDelta!
        var out = Matrix(zeros: feats.frames, model.outputSize)
        let d = model.config.decoder.d_model
        feats.features.data.withUnsafeBufferPointer { fp in
            out.data.withUnsafeMutableBufferPointer { op in
                delta.withUnsafeBufferPointer { dp in
                    for t in 0..<feats.frames {
                        fd.decode(state.pointer, position: t, audio: fp.baseAddress! + t * d, offsets: op.baseAddress! + t * model.outputSize, basisDelta: dp.baseAddress!)
                    }
                }
            }
        }
        XCTAssertLessThanOrEqual(Fixtures.relativeError(out, offline), 1e-5)
    }

    func testStreamPersonaNeedsReservedRoomAndChangesOutput() throws {
        let model = try MimeticModel(path: Fixtures.path("imitator_zeros.model.safetensors"))
        let (e, _) = try Fixtures.tensors("imitator_zeros.expected.safetensors")
        let audio = e["audio"]!.data
        let persona = try adaptedPersona(model, audio: audio)
        let style = try model.styleVector(.slot(0))
        let plain = try StreamEngine(model: model, params: StreamParams(), style: style)
        XCTAssertThrowsError(try plain.setPersona(persona)) { XCTAssertTrue("\($0)".contains("room"), "\($0)") }
        var p = StreamParams()
        p.reserveBasisDelta = true
        func run(_ persona: Persona?) throws -> [Float] {
            let s = try StreamEngine(model: model, params: p, style: style)
            if let persona { try s.setPersona(persona) }
            try audio.withUnsafeBufferPointer { try s.push($0.baseAddress!, count: $0.count) }
            try s.flush()
            var all: [Float] = [], out = [Float](repeating: 0, count: model.outputSize)
            while try out.withUnsafeMutableBufferPointer({ try s.pull(into: $0.baseAddress!, capacity: $0.count) }) != nil { all += out }
            return all
        }
        let a = try run(nil), b = try run(persona)
        XCTAssertEqual(a.count, b.count)
        XCTAssertGreaterThan(zip(a, b).map { abs($0 - $1) }.max()!, 1e-4)
        // Style-only persona (no basis): no room needed.
        try plain.setPersona(Persona(style: persona.style, modelFingerprint: model.fingerprint))
    }
}
