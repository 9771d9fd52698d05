/// Problems writing Wavefront OBJ meshes; every case carries the path.
public enum OBJError: Error, Equatable, CustomStringConvertible {
    case cannotWrite(path: String, reason: String)
    case cannotCreateDirectory(path: String, reason: String)
    /// Vertex data must be xyz triples.
    case vertexDataNotTriples(path: String, floatCount: Int)
    case triangleDataNotTriples(path: String, indexCount: Int)
    case triangleIndexOutOfRange(path: String, triangle: Int, index: Int32, vertexCount: Int)
    /// A frame's vertex count differs from the one the sequence was set up for.
    case vertexCountMismatch(path: String, expected: Int, actual: Int)
    case nonFiniteVertex(path: String, vertex: Int)
    /// Sequence data that is not a whole number of frames.
    case partialFrame(path: String, floatCount: Int, floatsPerFrame: Int)

    public var description: String {
        switch self {
        case let .cannotWrite(path, reason):
            return "\(path): cannot write OBJ file: \(reason)"
        case let .cannotCreateDirectory(path, reason):
            return "\(path): cannot create the output directory: \(reason)"
        case let .vertexDataNotTriples(path, floatCount):
            return "\(path): cannot write OBJ file: \(floatCount) vertex floats is not a whole number of xyz triples"
        case let .triangleDataNotTriples(path, indexCount):
            return "\(path): cannot write OBJ file: \(indexCount) triangle indices is not a whole number of triangles"
        case let .triangleIndexOutOfRange(path, triangle, index, vertexCount):
            return "\(path): cannot write OBJ file: triangle \(triangle) uses vertex \(index), "
                + "but the mesh has \(vertexCount) vertices (indices are 0-based)"
        case let .vertexCountMismatch(path, expected, actual):
            return "\(path): cannot write OBJ file: the frame has \(actual) vertices, expected \(expected)"
        case let .nonFiniteVertex(path, vertex):
            return "\(path): cannot write OBJ file: vertex \(vertex) has a NaN or infinite coordinate"
        case let .partialFrame(path, floatCount, floatsPerFrame):
            return "\(path): cannot write OBJ sequence: \(floatCount) floats is not a whole number of "
                + "\(floatsPerFrame)-float frames"
        }
    }
}
