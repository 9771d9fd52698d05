import Foundation
import XCTest
@testable import MimeticCore

/// Pieces of the real-time encoder that the parity fixtures exercise only as a whole.
final class RealtimeEncoderTests: XCTestCase {
    /// The half-size real FFT against a direct DFT, in float64.
    func testRealFFTPowerMatchesDirectDFT() {
        for (n, win) in [(512, 400), (16, 16), (1024, 1000)] {
            let fft = RealFFT(size: n)
            var seed: UInt64 = 42
            let x: [Float] = (0..<win).map { _ in
                seed = seed &* 6364136223846793005 &+ 1442695040888963407
                return Float(Int64(bitPattern: seed >> 11) % 2000) / 1000 - 1
            }
            let w = [Double](repeating: 1, count: win)
            var scratch = [Double](repeating: 0, count: fft.scratchDoubles)
            var power = [Double](repeating: 0, count: n / 2 + 1)
            x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in
                scratch.withUnsafeMutableBufferPointer { sp in power.withUnsafeMutableBufferPointer { pp in
                    fft.power(winLength: win, samples: xp.baseAddress!, window: wp.baseAddress!, scratch: sp.baseAddress!, into: pp.baseAddress!)
                } }
            } }
            var worst = 0.0, scale = 0.0
            for k in 0...(n / 2) {
                var re = 0.0, im = 0.0
                for t in 0..<win {
                    let a = -2 * Double.pi * Double(k * t) / Double(n)
                    re += Double(x[t]) * cos(a)
                    im += Double(x[t]) * sin(a)
                }
                let p = re * re + im * im
                worst = max(worst, abs(p - power[k]))
                scale = max(scale, p)
            }
            XCTAssertLessThan(worst / scale, 1e-12, "n \(n)")
        }
    }

    func testConfigValidation() throws {
        let store = try TensorStore(path: Fixtures.path("realtime_imitator.model.safetensors"))
        let json = store.metadata["mimetic.config"]!
        XCTAssertNotNil(try ModelConfig.decode(json: json, source: "t").realtime)
        func expectError(_ edit: (inout [String: Any]) -> Void, _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
            var obj = try! JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
            edit(&obj)
            let text = String(decoding: try! JSONSerialization.data(withJSONObject: obj), as: UTF8.self)
            XCTAssertThrowsError(try ModelConfig.decode(json: text, source: "t"), file: file, line: line) {
                XCTAssertTrue("\($0)".contains(fragment), "\($0)", file: file, line: line)
            }
        }
        func encoder(_ key: String, _ value: Any) -> (inout [String: Any]) -> Void {
            { var e = $0["encoder"] as! [String: Any]; e[key] = value; $0["encoder"] = e }
        }
        expectError({ $0["alignment"] = ["mode": "interpolate", "frames_offset": 0] }, "native")
        expectError(encoder("type", "whisper"), "unsupported encoder type 'whisper'")
        expectError(encoder("lookahead", [0, 0, 9]), "lookahead")
        expectError(encoder("n_fft", 500), "power of two")
        expectError(encoder("kernel", [3, 3]), "equal lengths")
        expectError(encoder("down_lookahead", 6), "down_lookahead")
        expectError(encoder("mel_scale", "slaney"), "htk")
        expectError({ var e = $0["encoder"] as! [String: Any]; e.removeValue(forKey: "n_mels"); $0["encoder"] = e }, "encoder.n_mels")
    }

    /// Frame counts: floor(N · fps / 16000), one more than or equal to the wav2vec 2.0 rule.
    func testFrameCountRule() throws {
        let model = try MimeticModel(path: Fixtures.path("realtime_imitator.model.safetensors"))
        XCTAssertEqual(model.minimumSamples, 534)
        for n in stride(from: 534, to: 40000, by: 97) {
            let t = model.frameCount(samples: n)
            XCTAssertEqual(t, n * 30 / 16000)
            let l = (n - 400) / 320 + 1
            XCTAssertTrue([t, t - 1].contains(Int(Double(l) / 50 * 30)))
        }
        XCTAssertThrowsError(try model.audioFeatures([Float](repeating: 0.1, count: 533)))
        XCTAssertEqual(try model.audioFeatures([Float](repeating: 0.1, count: 534)).frames, 1)
    }
}
