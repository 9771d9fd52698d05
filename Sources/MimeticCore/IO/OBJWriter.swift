/// Writes one mesh as a Wavefront OBJ file: a `v x y z` line per vertex,
/// then (when `triangles` is given) an `f a b c` line per triangle with
/// OBJ's 1-based indices. `vertices` holds xyz interleaved (3V floats);
/// `triangles` holds 0-based vertex indices, three per triangle.
public func writeOBJ(path: String, vertices: UnsafeBufferPointer<Float>, triangles: [Int32]?) throws {
    guard vertices.count % 3 == 0 else {
        throw OBJError.vertexDataNotTriples(path: path, floatCount: vertices.count)
    }
    let faces = try objFaceLines(triangles, vertexCount: vertices.count / 3, path: path)
    try writeOBJ(path: path, vertices: vertices, faceLines: faces)
}

/// Writes precomputed face lines after the vertices, so a sequence formats
/// its (shared) faces only once.
func writeOBJ(path: String, vertices: UnsafeBufferPointer<Float>, faceLines: [UInt8]) throws {
    var text: [UInt8] = []
    // "v " + three ~10-character numbers + separators, plus the faces.
    text.reserveCapacity(vertices.count / 3 * 36 + faceLines.count)
    for vertex in 0..<vertices.count / 3 {
        let x = vertices[3 * vertex], y = vertices[3 * vertex + 1], z = vertices[3 * vertex + 2]
        guard x.isFinite && y.isFinite && z.isFinite else {
            throw OBJError.nonFiniteVertex(path: path, vertex: vertex)
        }
        // Float.description is the shortest text that reads back as the
        // same Float, so the file is exact and compact.
        text.appendASCII("v \(x) \(y) \(z)\n")
    }
    text += faceLines
    do {
        try writeFileBytes(text, toPath: path)
    } catch let failure as FileAccessFailure {
        throw OBJError.cannotWrite(path: path, reason: failure.reason)
    }
}

/// Validates triangles against the vertex count and formats their `f` lines.
func objFaceLines(_ triangles: [Int32]?, vertexCount: Int, path: String) throws -> [UInt8] {
    guard let triangles else { return [] }
    guard triangles.count % 3 == 0 else {
        throw OBJError.triangleDataNotTriples(path: path, indexCount: triangles.count)
    }
    var text: [UInt8] = []
    text.reserveCapacity(triangles.count * 6)
    for triangle in 0..<triangles.count / 3 {
        let corners = triangles[3 * triangle..<3 * triangle + 3]
        if let bad = corners.first(where: { $0 < 0 || Int($0) >= vertexCount }) {
            throw OBJError.triangleIndexOutOfRange(
                path: path, triangle: triangle, index: bad, vertexCount: vertexCount)
        }
        text.appendASCII("f \(Int(corners[corners.startIndex]) + 1) \(Int(corners[corners.startIndex + 1]) + 1) "
            + "\(Int(corners[corners.startIndex + 2]) + 1)\n")
    }
    return text
}
