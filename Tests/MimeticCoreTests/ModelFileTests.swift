import Foundation
import XCTest
@testable import MimeticCore

/// Every way a model file can be broken gives a precise MimeticError, never a crash.
final class ModelFileTests: XCTestCase {
    let fixture = "faceformer_vocaset.model.safetensors"

    func load(_ bytes: [UInt8]) throws -> MimeticModel {
        try bytes.withUnsafeBytes { try MimeticModel(store: TensorStore(bytes: $0, source: "broken.safetensors")) }
    }

    func expectInvalidModel(_ bytes: [UInt8], containing fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try load(bytes), file: file, line: line) { error in
            guard let e = error as? MimeticError else { return XCTFail("not a MimeticError: \(error)", file: file, line: line) }
            switch e {
            case .invalidModel(let m), .unsupported(let m):
                XCTAssertTrue(m.contains(fragment), "message '\(m)' lacks '\(fragment)'", file: file, line: line)
            default: XCTFail("wrong error \(e)", file: file, line: line)
            }
        }
    }

    func fixtureBytes() throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fixtures.path(fixture)))) }

    /// Splits a safetensors file into its JSON header and data region.
    func parts(_ b: [UInt8]) -> (header: [String: Any], data: [UInt8]) {
        let n = Int(b.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let header = try! JSONSerialization.jsonObject(with: Data(b[8..<(8 + n)])) as! [String: Any]
        return (header, Array(b[(8 + n)...]))
    }

    func assemble(_ header: [String: Any], _ data: [UInt8]) -> [UInt8] {
        let json = try! JSONSerialization.data(withJSONObject: header)
        var out: [UInt8] = []
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        return out + json + data
    }

    func testFixtureLoads() throws {
        let m = try load(try fixtureBytes())
        XCTAssertEqual(m.family, .faceformer)
    }

    func testMissingFile() {
        XCTAssertThrowsError(try MimeticModel(path: "/nonexistent/model.safetensors")) { e in
            guard case .io(let m) = e as! MimeticError else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains("/nonexistent/model.safetensors"))
        }
    }

    func testDirectoryIsNotAModel() {
        XCTAssertThrowsError(try MimeticModel(path: "/tmp")) { e in
            guard case .io(let m) = e as! MimeticError else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains("not a regular file"))
        }
    }

    func testEmptyAndTinyFiles() {
        XCTAssertThrowsError(try [UInt8]().withUnsafeBytes { try TensorStore(bytes: $0) })
        expectInvalidModel([1, 2, 3], containing: "too short")
    }

    func testTruncatedAnywhere() throws {
        let b = try fixtureBytes()
        let (header, _) = parts(b)
        let headerEnd = 8 + (try JSONSerialization.data(withJSONObject: header)).count
        for cut in [4, 8, 20, headerEnd / 2, b.count / 2, b.count - 1] {
            XCTAssertThrowsError(try load(Array(b.prefix(cut))), "cut at \(cut) should fail") { e in
                XCTAssertTrue("\(e)".contains("truncated") || "\(e)".contains("too short") || "\(e)".contains("not plausible"), "cut \(cut): \(e)")
            }
        }
    }

    func testGarbageHeaderLength() throws {
        var b = try fixtureBytes()
        b.replaceSubrange(0..<8, with: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])
        expectInvalidModel(b, containing: "not plausible")
    }

    func testHeaderNotJSON() throws {
        var b = try fixtureBytes()
        b[8] = UInt8(ascii: "#")
        expectInvalidModel(b, containing: "header is not valid JSON (unexpected character '#' at byte 0)")
    }

    func testHeaderJSONButNotAnObject() throws {
        let json = Array("[1, 2]   ".utf8)
        var b = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Array($0) }
        b += json
        expectInvalidModel(b, containing: "not a JSON object")
    }

    func testNotAMimeticModel() throws {
        var (h, d) = parts(try fixtureBytes())
        h.removeValue(forKey: "__metadata__")
        expectInvalidModel(assemble(h, d), containing: "not a Mimetic model")
    }

    func testFutureFormatVersion() throws {
        var (h, d) = parts(try fixtureBytes())
        var meta = h["__metadata__"] as! [String: String]
        meta["mimetic.format"] = "7"
        h["__metadata__"] = meta
        expectInvalidModel(assemble(h, d), containing: "version 7")
    }

    func testBrokenConfig() throws {
        var (h, d) = parts(try fixtureBytes())
        var meta = h["__metadata__"] as! [String: String]
        meta["mimetic.config"] = "{\"family\": \"faceformer\"}"
        h["__metadata__"] = meta
        expectInvalidModel(assemble(h, d), containing: "missing")
        meta["mimetic.config"] = "not json"
        h["__metadata__"] = meta
        expectInvalidModel(assemble(h, d), containing: "config")
        var config = try JSONSerialization.jsonObject(with: Data((parts(try fixtureBytes()).header["__metadata__"] as! [String: String])["mimetic.config"]!.utf8)) as! [String: Any]
        var dec = config["decoder"] as! [String: Any]
        dec["num_heads"] = 5   // d_model 32 is not divisible by 5
        config["decoder"] = dec
        meta["mimetic.config"] = String(decoding: try JSONSerialization.data(withJSONObject: config), as: UTF8.self)
        h["__metadata__"] = meta
        expectInvalidModel(assemble(h, d), containing: "num_heads")
    }

    /// The fuzzer's finding: a real-time encoder whose downsampling kernel (6) is shorter than its
    /// stride (`subframes` edited from 3 to 8) loaded, ran offline, and trapped in a stream, which
    /// consumed more input rows than it held. It is refused at load now.
    func testRealtimeDownKernelShorterThanStride() throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("realtime_imitator.model.safetensors"))))
        var (h, d) = parts(bytes)
        var meta = h["__metadata__"] as! [String: String]
        var config = try JSONSerialization.jsonObject(with: Data(meta["mimetic.config"]!.utf8)) as! [String: Any]
        var enc = config["encoder"] as! [String: Any]
        XCTAssertEqual(enc["down_kernel"] as? Int, 6)
        enc["subframes"] = 6   // equal: still a valid model
        config["encoder"] = enc
        meta["mimetic.config"] = String(decoding: try JSONSerialization.data(withJSONObject: config), as: UTF8.self)
        h["__metadata__"] = meta
        XCTAssertNoThrow(try load(assemble(h, d)))
        enc["subframes"] = 8
        config["encoder"] = enc
        meta["mimetic.config"] = String(decoding: try JSONSerialization.data(withJSONObject: config), as: UTF8.self)
        h["__metadata__"] = meta
        expectInvalidModel(assemble(h, d), containing: "encoder.down_kernel (6) must be at least encoder.subframes (8)")
    }

    func testMissingTensor() throws {
        var (h, d) = parts(try fixtureBytes())
        h.removeValue(forKey: "motion_out.weight")
        expectInvalidModel(assemble(h, d), containing: "missing tensor 'motion_out.weight'")
    }

    func testWrongShape() throws {
        var (h, d) = parts(try fixtureBytes())
        var e = h["audio_map.bias"] as! [String: Any]
        let shape = e["shape"] as! [Int]
        let offs = e["data_offsets"] as! [Int]
        // Same bytes, reinterpreted: shape [1, n] instead of [n].
        e["shape"] = [1, shape[0]]
        e["data_offsets"] = offs
        h["audio_map.bias"] = e
        expectInvalidModel(assemble(h, d), containing: "'audio_map.bias' has shape")
    }

    func testSizeMismatchAndOverlap() throws {
        var (h, d) = parts(try fixtureBytes())
        var e = h["audio_map.bias"] as! [String: Any]
        let offs = e["data_offsets"] as! [Int]
        e["data_offsets"] = [offs[0], offs[1] + 4]
        h["audio_map.bias"] = e
        expectInvalidModel(assemble(h, d), containing: "occupies")
        (h, d) = parts(try fixtureBytes())
        var a = h["audio_map.bias"] as! [String: Any]
        let other = h["audio_map.weight"] as! [String: Any]
        let otherOffs = other["data_offsets"] as! [Int]
        let n = (a["shape"] as! [Int])[0]
        a["data_offsets"] = [otherOffs[0], otherOffs[0] + 4 * n]
        h["audio_map.bias"] = a
        expectInvalidModel(assemble(h, d), containing: "overlap")
    }

    func testUnsupportedDType() throws {
        var (h, d) = parts(try fixtureBytes())
        var e = h["audio_map.bias"] as! [String: Any]
        e["dtype"] = "Q4"
        h["audio_map.bias"] = e
        expectInvalidModel(assemble(h, d), containing: "unsupported dtype Q4")
        (h, d) = parts(try fixtureBytes())
        e = h["audio_map.bias"] as! [String: Any]
        e["dtype"] = "I32"
        h["audio_map.bias"] = e
        expectInvalidModel(assemble(h, d), containing: "must be F32, F16 or BF16")
    }

    func testNonFiniteWeight() throws {
        let (h, d) = parts(try fixtureBytes())
        let e = h["audio_map.weight"] as! [String: Any]
        let begin = (e["data_offsets"] as! [Int])[0]
        var data = d
        let nan = Float.nan.bitPattern
        withUnsafeBytes(of: nan.littleEndian) { for i in 0..<4 { data[begin + 4 + i] = $0[i] } }
        expectInvalidModel(assemble(h, data), containing: "non-finite value at index 1")
    }

    func testTriangleIndexOutOfRange() throws {
        var (h, d) = parts(try fixtureBytes())
        let begin = d.count
        var data = d
        for v: Int32 in [0, 1, 99_999] { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        h["triangles"] = ["dtype": "I32", "shape": [1, 3], "data_offsets": [begin, begin + 12]]
        expectInvalidModel(assemble(h, data), containing: "references vertex 99999")
    }

    /// `lip_pairs` ([2, k] inner-lip pairs) loads as two rows; a wrong shape or vertex is refused.
    func testLipPairs() throws {
        func withPairs(_ values: [Int32], shape: [Int]) throws -> [UInt8] {
            var (h, d) = parts(try fixtureBytes())
            let begin = d.count
            for v in values { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
            h["lip_pairs"] = ["dtype": "I32", "shape": shape, "data_offsets": [begin, begin + 4 * values.count]]
            return assemble(h, d)
        }
        let m = try load(try withPairs([1, 2, 3, 10, 20, 30], shape: [2, 3]))
        XCTAssertEqual(m.lipPairs?.upper, [1, 2, 3])
        XCTAssertEqual(m.lipPairs?.lower, [10, 20, 30])
        expectInvalidModel(try withPairs([1, 2, 3, 10, 20, 30], shape: [3, 2]), containing: "'lip_pairs' must be [2, k]")
        expectInvalidModel(try withPairs([1, 99_999], shape: [2, 1]), containing: "'lip_pairs' references vertex 99999")
    }
}
