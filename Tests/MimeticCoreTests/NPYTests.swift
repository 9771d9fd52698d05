import Foundation
import XCTest

@testable import MimeticCore

final class NPYTests: TemporaryDirectoryTestCase {
    func testRoundTripKeepsDataAndShape() throws {
        let shapes: [[Int]] = [[2, 3, 4], [5], [], [0], [3, 0], [1, 1, 1, 7]]
        for shape in shapes {
            let count = shape.reduce(1, *)
            let data = (0..<count).map { Float($0) * 0.37 - 1.5 }
            let path = temporaryPath("round-trip.npy")
            try writeNPY(path: path, data: data, shape: shape)
            let (readData, readShape) = try readNPY(path: path)
            XCTAssertEqual(readData, data, "\(shape)")
            XCTAssertEqual(readShape, shape)
        }
    }

    func testWrittenFileHasNumPyLayout() throws {
        let path = temporaryPath("layout.npy")
        try writeNPY(path: path, data: [1, 2, 3, 4, 5, 6], shape: [2, 3])
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        XCTAssertEqual(Array(bytes[0..<8]), [0x93] + Array("NUMPY".utf8) + [1, 0])
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        XCTAssertEqual((10 + headerLength) % 64, 0, "data must start on a 64-byte boundary")
        let header = String(decoding: bytes[10..<10 + headerLength], as: UTF8.self)
        XCTAssertTrue(header.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"), header)
        XCTAssertTrue(header.hasSuffix(" \n"))
        XCTAssertEqual(bytes.count, 10 + headerLength + 24)
        XCTAssertEqual(
            Array(bytes[(10 + headerLength)...][..<(10 + headerLength + 4)]), littleEndianBytes(Float(1).bitPattern))
    }

    func testReadsFloat64AndInt32AsWrittenByNumPy() throws {
        // Headers exactly as NumPy 2.4 writes them, growth padding included.
        let float64 = [0.5, -1.25, 3, 4, 5, 1e-3].flatMap { littleEndianBytes($0.bitPattern) }
        let doubles = try readNPY(
            path: write(
                npyFile(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", payload: float64)))
        XCTAssertEqual(doubles.data, [0.5, -1.25, 3, 4, 5, Float(1e-3)])
        XCTAssertEqual(doubles.shape, [2, 3])

        let int32 = [Int32(-3), 0, .max, 16_777_217].flatMap { littleEndianBytes($0) }
        let ints = try readNPY(
            path: write(npyFile(header: "{'descr': '<i4', 'fortran_order': False, 'shape': (4,), }", payload: int32)))
        XCTAssertEqual(ints.data, [-3, 0, 2_147_483_648, 16_777_216])
        XCTAssertEqual(ints.shape, [4])
    }

    func testReadsVersion2HeadersAndDoubleQuotes() throws {
        let payload = [Float(7), 8].flatMap { littleEndianBytes($0.bitPattern) }
        let file = npyFile(
            header: "{\"shape\": (2,), \"fortran_order\": False, \"descr\": \"<f4\"}", payload: payload, version: 2)
        let result = try readNPY(path: write(file))
        XCTAssertEqual(result.data, [7, 8])
        XCTAssertEqual(result.shape, [2])
    }

    func testTrailingBytesAfterTheDataAreIgnored() throws {
        let payload = littleEndianBytes(Float(2).bitPattern) + [9, 9, 9]
        let result = try readNPY(
            path: write(npyFile(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", payload: payload)))
        XCTAssertEqual(result.data, [2])
    }

    // MARK: Bad files

    func testUnreadableFileAndBadMagic() throws {
        let missing = temporaryPath("missing.npy")
        assertNPYError(
            try readNPY(path: missing), .cannotRead(path: missing, reason: "No such file or directory"),
            mentions: [missing])
        let path = try write(Array("PK\u{3}\u{4}zip archive".utf8))
        assertNPYError(
            try readNPY(path: path), .badMagic(path: path, found: "PK\\x03\\x04zi"), mentions: ["NUMPY", "PK"])
        let version9 = try write([0x93] + Array("NUMPY".utf8) + [9, 0, 0, 0])
        assertNPYError(
            try readNPY(path: version9), .unsupportedVersion(path: version9, major: 9, minor: 0), mentions: ["9.0"])
    }

    func testUnsupportedArrays() throws {
        let cases: [(String, (String) -> NPYError, [String])] = [
            ("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", { .fortranOrder(path: $0) }, ["Fortran"]),
            (
                "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 2), }", { .bigEndian(path: $0, descr: ">f4") },
                ["big-endian", ">f4"]
            ),
            (
                "{'descr': '|O', 'fortran_order': False, 'shape': (2, 2), }", { .objectArray(path: $0, descr: "|O") },
                ["object"]
            ),
            (
                "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 2), }",
                { .unsupportedDType(path: $0, descr: "<i8") }, ["<i8"]
            ),
            (
                "{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (2,), }",
                { .unsupportedDType(path: $0, descr: "structured (record) dtype") }, ["structured"]
            ),
        ]
        for (header, expected, facts) in cases {
            let path = try write(npyFile(header: header, payload: [UInt8](repeating: 0, count: 64)))
            assertNPYError(try readNPY(path: path), expected(path), mentions: facts)
        }
    }

    func testTruncatedData() throws {
        let path = try write(
            npyFile(
                header: "{'descr': '<f8', 'fortran_order': False, 'shape': (10,), }",
                payload: [UInt8](repeating: 0, count: 30)))
        assertNPYError(
            try readNPY(path: path), .truncated(path: path, expectedBytes: 80, presentBytes: 30),
            mentions: ["80 data bytes", "only 30"])
    }

    func testMalformedHeaders() throws {
        let headers = [
            "{'descr': '<f4', 'fortran_order': False, }",  // no shape
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -1), }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)",
            "['not', 'a', 'dict']",
        ]
        for header in headers {
            let path = try write(npyFile(header: header, payload: []))
            XCTAssertThrowsError(try readNPY(path: path), header) { error in
                guard case NPYError.malformedHeader(path: path, reason: _) = error else { return XCTFail("\(error)") }
            }
        }
        var cutShort = npyFile(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", payload: [])
        cutShort.removeLast(20)
        let path = try write(cutShort)
        assertNPYError(
            try readNPY(path: path),
            .malformedHeader(path: path, reason: "it declares 118 bytes but only 98 remain in the file"),
            mentions: ["118"])
    }

    func testWriteRejectsAShapeThatDoesNotFitTheData() {
        let path = temporaryPath("bad-shape.npy")
        assertNPYError(
            try writeNPY(path: path, data: [1, 2, 3], shape: [2, 2]),
            .shapeMismatch(path: path, shape: [2, 2], elementCount: 3), mentions: ["[2, 2]", "3 elements"])
        assertNPYError(
            try writeNPY(path: path, data: [1], shape: [-1, -1]),
            .shapeMismatch(path: path, shape: [-1, -1], elementCount: 1), mentions: ["[-1, -1]"])
    }

    // MARK: Helpers

    /// An .npy file with `header` padded the way NumPy 2.x pads it.
    private func npyFile(header: String, payload: [UInt8], version: UInt8 = 1) -> [UInt8] {
        let lengthSize = version == 1 ? 2 : 4
        var text = header + String(repeating: " ", count: 21 - 3)  // NumPy's room-to-grow spaces
        text += String(repeating: " ", count: 63 - (8 + lengthSize + text.utf8.count) % 64) + "\n"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [version, 0]
        bytes += version == 1 ? littleEndianBytes(UInt16(text.utf8.count)) : littleEndianBytes(UInt32(text.utf8.count))
        return bytes + Array(text.utf8) + payload
    }

    private var fileCounter = 0

    private func write(_ bytes: [UInt8]) throws -> String {
        fileCounter += 1
        let path = temporaryPath("npy-test-\(fileCounter).npy")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    private func assertNPYError<T>(
        _ expression: @autoclosure () throws -> T, _ expected: NPYError, mentions facts: [String],
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try expression(), file: file, line: line) { error in
            XCTAssertEqual(error as? NPYError, expected, file: file, line: line)
            for fact in facts {
                XCTAssertTrue(
                    "\(error)".contains(fact), "\"\(error)\" should mention \"\(fact)\"", file: file, line: line)
            }
        }
    }
}
