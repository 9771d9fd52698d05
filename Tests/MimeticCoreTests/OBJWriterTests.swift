import Foundation
import XCTest

@testable import MimeticCore

final class OBJWriterTests: TemporaryDirectoryTestCase {
    private let triangle: [Float] = [0, 0, 0, 1, 0, 0, 0, 0.5, -2.25]

    func testWritesVerticesAndOneBasedFaces() throws {
        let path = temporaryPath("mesh.obj")
        try triangle.withUnsafeBufferPointer { try writeOBJ(path: path, vertices: $0, triangles: [0, 1, 2, 2, 1, 0]) }
        XCTAssertEqual(
            try String(contentsOfFile: path, encoding: .utf8),
            "v 0.0 0.0 0.0\nv 1.0 0.0 0.0\nv 0.0 0.5 -2.25\nf 1 2 3\nf 3 2 1\n")
    }

    func testCoordinatesReadBackExactly() throws {
        let vertices: [Float] = [0.1, -1e-7, 123456.79, .pi, -0.0, 3e38]
        let path = temporaryPath("exact.obj")
        try vertices.withUnsafeBufferPointer { try writeOBJ(path: path, vertices: $0, triangles: nil) }
        let numbers = try String(contentsOfFile: path, encoding: .utf8)
            .split(whereSeparator: { $0 == " " || $0 == "\n" }).filter { $0 != "v" }.map { Float(String($0))! }
        XCTAssertEqual(numbers, vertices)
    }

    func testRejectsBadInput() {
        let path = temporaryPath("bad.obj")
        XCTAssertThrowsError(
            try triangle.withUnsafeBufferPointer { try writeOBJ(path: path, vertices: $0, triangles: [0, 1, 3]) }
        ) {
            XCTAssertEqual($0 as? OBJError, .triangleIndexOutOfRange(path: path, triangle: 0, index: 3, vertexCount: 3))
            XCTAssertTrue("\($0)".contains("vertex 3"), "\($0)")
        }
        XCTAssertThrowsError(
            try triangle.withUnsafeBufferPointer { try writeOBJ(path: path, vertices: $0, triangles: [0, 1]) }
        ) {
            XCTAssertEqual($0 as? OBJError, .triangleDataNotTriples(path: path, indexCount: 2))
        }
        XCTAssertThrowsError(
            try [Float](repeating: 0, count: 4).withUnsafeBufferPointer {
                try writeOBJ(path: path, vertices: $0, triangles: nil)
            }
        ) {
            XCTAssertEqual($0 as? OBJError, .vertexDataNotTriples(path: path, floatCount: 4))
        }
        XCTAssertThrowsError(
            try [0, .nan, 0].withUnsafeBufferPointer { try writeOBJ(path: path, vertices: $0, triangles: nil) }
        ) {
            XCTAssertEqual($0 as? OBJError, .nonFiniteVertex(path: path, vertex: 0))
        }
    }

    func testSequenceWritesOneNumberedFilePerFrame() throws {
        let directory = temporaryPath("frames/run1")  // parents are created
        let frames = triangle + triangle.map { $0 + 1 }
        let paths = try frames.withUnsafeBufferPointer {
            try writeOBJSequence(directory: directory, frames: $0, vertexCount: 3, triangles: [0, 1, 2])
        }
        XCTAssertEqual(paths, [directory + "/frame_00000.obj", directory + "/frame_00001.obj"])
        XCTAssertEqual(
            try String(contentsOfFile: paths[1], encoding: .utf8),
            "v 1.0 1.0 1.0\nv 2.0 1.0 1.0\nv 1.0 1.5 -1.25\nf 1 2 3\n")
        XCTAssertEqual(OBJSequenceWriter.fileName(forFrame: 123_456), "frame_123456.obj")
        XCTAssertThrowsError(
            try frames.withUnsafeBufferPointer {
                try writeOBJSequence(directory: directory, frames: $0, vertexCount: 4, triangles: nil)
            }
        ) {
            XCTAssertEqual($0 as? OBJError, .partialFrame(path: directory, floatCount: 18, floatsPerFrame: 12))
        }
    }

    func testSequenceDirectoryThatIsAFile() throws {
        let file = temporaryPath("plain-file")
        try Data([1]).write(to: URL(fileURLWithPath: file))
        XCTAssertThrowsError(try OBJSequenceWriter(directory: file, vertexCount: 3, triangles: nil)) {
            XCTAssertEqual(
                $0 as? OBJError, .cannotCreateDirectory(path: file, reason: "it exists and is not a directory"))
        }
    }
}
