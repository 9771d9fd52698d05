/// Writes an animation as one OBJ file per frame (`frame_00000.obj`,
/// `frame_00001.obj`, ...) into a directory, all sharing one triangle list.
public struct OBJSequenceWriter {
    public let directory: String
    public let vertexCount: Int
    public private(set) var framesWritten = 0
    private let faceLines: [UInt8]

    /// Creates `directory` (and missing parents) and checks `triangles`
    /// against `vertexCount` once for the whole sequence.
    public init(directory: String, vertexCount: Int, triangles: [Int32]?) throws {
        do {
            try createDirectories(atPath: directory)
        } catch let failure as FileAccessFailure {
            throw OBJError.cannotCreateDirectory(path: directory, reason: failure.reason)
        }
        self.directory = directory
        self.vertexCount = vertexCount
        faceLines = try objFaceLines(triangles, vertexCount: vertexCount, path: directory)
    }

    /// Five digits keep names sorting in frame order up to 100 000 frames
    /// (55 minutes at 30 fps); longer sequences get more digits.
    public static func fileName(forFrame frame: Int) -> String {
        let digits = String(frame)
        return "frame_" + String(repeating: "0", count: max(0, 5 - digits.count)) + digits + ".obj"
    }

    /// Writes the next frame (3·vertexCount floats, xyz interleaved) and
    /// returns the path written.
    @discardableResult
    public mutating func write(frame vertices: UnsafeBufferPointer<Float>) throws -> String {
        let path = directory + "/" + Self.fileName(forFrame: framesWritten)
        guard vertices.count == 3 * vertexCount else {
            throw OBJError.vertexCountMismatch(path: path, expected: vertexCount, actual: vertices.count / 3)
        }
        try writeOBJ(path: path, vertices: vertices, faceLines: faceLines)
        framesWritten += 1
        return path
    }
}

/// Writes `frames` (frame-major, 3·vertexCount floats per frame) as
/// `frame_00000.obj`, ... in `directory`; returns the paths written.
@discardableResult
public func writeOBJSequence(
    directory: String, frames: UnsafeBufferPointer<Float>, vertexCount: Int, triangles: [Int32]?
) throws -> [String] {
    let frameSize = 3 * vertexCount
    guard frameSize > 0, frames.count % frameSize == 0 else {
        throw OBJError.partialFrame(path: directory, floatCount: frames.count, floatsPerFrame: frameSize)
    }
    var writer = try OBJSequenceWriter(directory: directory, vertexCount: vertexCount, triangles: triangles)
    return try stride(from: 0, to: frames.count, by: frameSize).map { start in
        try writer.write(frame: UnsafeBufferPointer(rebasing: frames[start..<start + frameSize]))
    }
}
