import XCTest
@testable import MimeticCore

/// Stage-by-stage parity with the PyTorch reference (tools/mimetic_tools/reference), on small
/// models whose every parameter is random, converted from checkpoints in the originals' layouts.
///
/// Tolerance: 1e-4 of each stage's scale (max |ref|). A correct float32 port lands near 1e-6;
/// the smallest real bug seen in a port (a missing periodic attention bias) gives ~7e-3
/// (docs/reference-notes.md, "Pitfalls"), so the bound separates the two by more than an order of
/// magnitude on each side.
final class ParityTests: XCTestCase {
    static let tolerance: Float = 1e-4
    static let stages = ["audio_normalized", "cnn", "aligned", "mel", "downsampled", "encoder", "audio_features", "style_code", "decoder",
                         "offsets", "vertices"]

    func check(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let modelFile = "\(name).model.safetensors", expectedFile = "\(name).expected.safetensors"
        guard Fixtures.exists(modelFile), Fixtures.exists(expectedFile) else {
            XCTFail("missing fixture \(name): run `python tools/make_fixtures.py`", file: file, line: line)
            return
        }
        let model = try MimeticModel(path: Fixtures.path(modelFile))
        let (expected, meta) = try Fixtures.tensors(expectedFile)
        let audio = try XCTUnwrap(expected["audio"], "fixture has no input audio").data
        let style: StyleInput
        var initial: [Float]? = nil
        if model.family == .mimic {
            style = .motion(try XCTUnwrap(expected["style_offsets"]))
            initial = expected["init_state"]?.data
        } else {
            style = .slot(Int(meta["style_index"] ?? "0") ?? 0)
        }
        let recorder = StageRecorder()
        let animation = try model.animate(audio: audio, style: style, initialOffsets: initial, recorder: recorder)
        var compared = 0
        var report: [String] = []
        for stage in Self.stages {
            guard let ref = expected[stage] else { continue }
            let got = try XCTUnwrap(recorder.stages[stage], "stage \(stage) not produced", file: file, line: line)
            XCTAssertEqual(got.count, ref.count, "\(name)/\(stage): \(got.rows)x\(got.cols) vs reference \(ref.rows)x\(ref.cols)", file: file, line: line)
            guard got.count == ref.count else { continue }
            let err = Fixtures.relativeError(got, ref)
            XCTAssertLessThanOrEqual(err, Self.tolerance, "\(name)/\(stage): relative error \(err)", file: file, line: line)
            report.append("\(stage) \(String(format: "%.1e", err))")
            compared += 1
        }
        print("parity \(name) [\(animation.frames) frames]: \(report.joined(separator: ", "))")
        XCTAssertGreaterThanOrEqual(compared, 7, "\(name): too few stages compared", file: file, line: line)
        XCTAssertEqual(animation.frames, expected["offsets"]?.rows, file: file, line: line)
    }

    func testFaceFormerVocaset() throws { try check("faceformer_vocaset") }
    func testFaceFormerVocasetFloat16() throws { try check("faceformer_vocaset_f16") }
    func testFaceFormerBIWI() throws { try check("faceformer_biwi") }
    func testImitatorZerosStartToken() throws { try check("imitator_zeros") }
    func testImitatorStyleStartToken() throws { try check("imitator_style") }
    func testMimicConvAlignment() throws { try check("mimic_conv") }
    func testMimicInterpolation() throws { try check("mimic_interp") }
    func testWav2Vec2LayerNormVariant() throws { try check("wav2vec2_layer") }
    func testFaceFormerBeyondWindow() throws { try check("faceformer_window") }
    func testImitatorBeyondWindow() throws { try check("imitator_window") }
    func testMimicBeyondWindow() throws { try check("mimic_window") }
    /// The real-time encoder (log-mel front end, causal conv stack) under an Imitator head, 30 fps.
    func testRealtimeEncoderImitator() throws { try check("realtime_imitator") }
    /// The real-time encoder at 25 fps (4 mel frames per frame, dilation and lookahead in several
    /// layers) under a FaceFormer head.
    func testRealtimeEncoderFaceFormer() throws { try check("realtime_faceformer") }

    /// A Mimic style code given directly must reproduce the run from reference motion.
    func testMimicStyleCodeInput() throws {
        let model = try MimeticModel(path: Fixtures.path("mimic_conv.model.safetensors"))
        let (expected, _) = try Fixtures.tensors("mimic_conv.expected.safetensors")
        let code = try XCTUnwrap(expected["style_code"]).data
        let a = try model.animate(audio: expected["audio"]!.data, style: .code(code), initialOffsets: expected["init_state"]?.data)
        XCTAssertLessThanOrEqual(Fixtures.relativeError(a.offsets, expected["offsets"]!), Self.tolerance)
    }
}
