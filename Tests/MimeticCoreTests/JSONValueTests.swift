import XCTest
@testable import MimeticCore

/// The core's own JSON reader (it replaced Foundation's): RFC 8259 exactly, and refusals with a
/// reason and a byte offset.
final class JSONValueTests: XCTestCase {
    func testParsesEveryKindOfValue() throws {
        let v = try JSONValue(parsing: #" {"a": [1, -2, 3.5, 1e3, -0.25E-2, true, false, null], "s": "x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00", "o": {}} "#)
        XCTAssertEqual(v["a"], .array([.integer(1), .integer(-2), .double(3.5), .double(1000), .double(-0.0025),
                                       .bool(true), .bool(false), .null]))
        XCTAssertEqual(v["s"]?.stringValue, "x\"\\/\u{8}\u{c}\n\r\té😀")
        XCTAssertEqual(v["o"], .object([:]))
        XCTAssertEqual(v["a"]?[0]?.intValue, 1)
        XCTAssertNil(v["a"]?[2]?.intValue, "3.5 is not an integer")
        XCTAssertEqual(v["a"]?[3]?.intValue, 1000, "1e3 is a whole number")
        XCTAssertNil(v["missing"])
        XCTAssertNil(v["a"]?[99])
    }

    func testLargeIntegersStayExact() throws {
        XCTAssertEqual(try JSONValue(parsing: "9007199254740993"), .integer(9_007_199_254_740_993))
        // Past Int's range an integer literal becomes a double.
        XCTAssertEqual(try JSONValue(parsing: "18446744073709551616").doubleValue, 18446744073709551616.0)
    }

    func testRefusesWhatRFC8259Refuses() {
        let bad: [(String, String)] = [
            ("", "unexpected end"), ("[1,]", "unexpected character"), ("{\"a\":1,}", "expected a string key"),
            ("01", "leading zero"), ("1.", "no digit after"), ("1e", "exponent"), ("-", "invalid number"),
            ("+1", "unexpected character"), (".5", "unexpected character"), ("NaN", "unexpected character"),
            ("tru", "invalid literal"), ("\"a", "unterminated string"), ("\"\u{1}\"", "control character"),
            ("\"\\x\"", "invalid escape"), ("\"\\u12\"", "truncated"), ("\"\\u12G4\"", "invalid hex digit"), ("\"\\ud800\"", "unpaired surrogate"),
            ("\"\\udc00\"", "unpaired surrogate"), ("{\"a\":1,\"a\":2}", "duplicate key"), ("[1] [2]", "after the JSON value"),
            ("{\"a\" 1}", "expected ':'"), ("[1 2]", "expected ',' or ']'"), ("1e999", "out of range"),
        ]
        for (text, reason) in bad {
            XCTAssertThrowsError(try JSONValue(parsing: text), text) { error in
                let message = "\(error)"
                XCTAssertTrue(message.contains(reason), "\(text): \(message)")
                XCTAssertTrue(message.contains("at byte"), message)
            }
        }
        XCTAssertThrowsError(try JSONValue(parsing: [UInt8(ascii: "\""), 0xFF, UInt8(ascii: "\"")])) {
            XCTAssertTrue("\($0)".contains("UTF-8"))
        }
    }

    func testDeepNestingIsRefusedNotACrash() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        XCTAssertThrowsError(try JSONValue(parsing: deep)) { XCTAssertTrue("\($0)".contains("nested deeper than 64")) }
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        XCTAssertNoThrow(try JSONValue(parsing: ok))
    }

    func testSerializedRoundTripsWithSortedKeys() throws {
        let v: JSONValue = .object(["b": .array([.integer(1), .double(0.1), .null, .bool(true)]),
                                    "a": .string("q\"\\\n\u{1}é"), "c": .object([:])])
        let text = v.serialized
        XCTAssertEqual(text, #"{"a":"q\"\\\n\u0001é","b":[1,0.1,null,true],"c":{}}"#)
        XCTAssertEqual(try JSONValue(parsing: text), v)
    }

    func testDecoderReportsPathsLikeJSONDecoder() throws {
        struct Inner: Decodable { var n: Int; var f: Float; var names: [String]; var opt: Int? }
        struct Outer: Decodable { var inner: Inner }
        let good = try JSONValueDecoder.decode(Outer.self, from: JSONValue(parsing: #"{"inner": {"n": 3, "f": 0.5, "names": ["x"]}}"#))
        XCTAssertEqual(good.inner.n, 3)
        XCTAssertEqual(good.inner.f, 0.5)
        XCTAssertNil(good.inner.opt)
        XCTAssertThrowsError(try JSONValueDecoder.decode(Outer.self, from: JSONValue(parsing: #"{"inner": {"f": 0.5, "names": []}}"#))) {
            guard case DecodingError.keyNotFound(let key, let ctx) = $0 else { return XCTFail("\($0)") }
            XCTAssertEqual((ctx.codingPath.map(\.stringValue) + [key.stringValue]).joined(separator: "."), "inner.n")
        }
        XCTAssertThrowsError(try JSONValueDecoder.decode(Outer.self, from: JSONValue(parsing: #"{"inner": {"n": "3", "f": 0.5, "names": []}}"#))) {
            guard case DecodingError.typeMismatch(_, let ctx) = $0 else { return XCTFail("\($0)") }
            XCTAssertEqual(ctx.codingPath.map(\.stringValue), ["inner", "n"])
        }
        XCTAssertThrowsError(try JSONValueDecoder.decode(Outer.self, from: JSONValue(parsing: #"{"inner": {"n": 2.5, "f": 0.5, "names": []}}"#))) {
            guard case DecodingError.dataCorrupted = $0 else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try JSONValueDecoder.decode(Outer.self, from: JSONValue(parsing: #"{"inner": {"n": 1, "f": 1e300, "names": []}}"#)))
        XCTAssertThrowsError(try JSONValueDecoder.decode(Outer.self, from: JSONValue(parsing: #"{"inner": {"n": 1, "f": 1, "names": [null]}}"#))) {
            guard case DecodingError.valueNotFound = $0 else { return XCTFail("\($0)") }
        }
    }

    func testModelConfigErrorsStillNameTheField() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/imitator_zeros.model.safetensors")
        let store = try TensorStore(path: url.path)
        let json = try XCTUnwrap(store.metadata["mimetic.config"])
        var config = try JSONValue(parsing: json).objectValue!
        var decoder = config["decoder"]!.objectValue!
        decoder.removeValue(forKey: "d_model")
        config["decoder"] = .object(decoder)
        XCTAssertThrowsError(try ModelConfig.decode(json: JSONValue.object(config).serialized, source: "m")) {
            XCTAssertTrue("\($0)".contains("config is missing 'decoder.d_model'"), "\($0)")
        }
        XCTAssertThrowsError(try ModelConfig.decode(json: "{", source: "m")) {
            XCTAssertTrue("\($0)".contains("config JSON cannot be read"), "\($0)")
        }
        // The shipped config decodes to what it encodes.
        XCTAssertNoThrow(try ModelConfig.decode(json: json, source: "m"))
    }
}
