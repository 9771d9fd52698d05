/// Blendshape basis files: a `.safetensors` with
///
///     basis   [K, V, 3] or [K, 3V]   float32/float16: each shape's offsets from the neutral mesh
///     lower   [K] (optional)         per-shape bounds (default 0)
///     upper   [K] (optional)         (default 1)
///     metadata "mimetic.blendshapes" = {"names": [...K names...], "version": 1}
///
/// (a corpus rig file, `models/rig.safetensors`, whose "corpus.rig" metadata names its basis, is
/// read the same way), or a `.npy` basis of the same shapes, whose shapes are named shape_0, ... .
extension Retarget {
    public convenience init(path: String, outputSize: Int, relativeRidge: Float = 1e-4,
                            controls: RetargetControls? = nil) throws {
        if path.lowercased().hasSuffix(".npy") {
            let (data, shape) = try readNPY(path: path)
            let k = try Self.shapeCount(shape, outputSize: outputSize, source: path)
            try self.init(basis: data, names: (0..<k).map { "shape_\($0)" }, outputSize: outputSize,
                          relativeRidge: relativeRidge, controls: controls)
            return
        }
        try self.init(store: try TensorStore(path: path), outputSize: outputSize, relativeRidge: relativeRidge, controls: controls)
    }

    public convenience init(store: TensorStore, outputSize: Int, relativeRidge: Float = 1e-4,
                            controls: RetargetControls? = nil) throws {
        let src = store.source
        guard let shape = store.shape(of: "basis") else {
            throw MimeticError.invalidModel("\(src): no 'basis' tensor (a blendshape basis file holds basis [K, V, 3] and its names)")
        }
        let k = try Self.shapeCount(shape, outputSize: outputSize, source: src)
        let names = try Self.names(store, count: k)
        let basis = try store.weight("basis", shape: shape).toArray()
        let lower = try store.optionalWeight("lower", shape: [k])?.toArray()
        let upper = try store.optionalWeight("upper", shape: [k])?.toArray()
        do {
            try self.init(basis: basis, names: names, outputSize: outputSize, lower: lower, upper: upper,
                          relativeRidge: relativeRidge, controls: controls)
        } catch MimeticError.invalidArgument(let m) {
            throw MimeticError.invalidModel("\(src): \(m)")
        }
    }

    private static func shapeCount(_ shape: [Int], outputSize: Int, source: String) throws -> Int {
        switch shape.count {
        case 3 where shape[1] * shape[2] == outputSize && shape[2] == 3: return shape[0]
        case 2 where shape[1] == outputSize: return shape[0]
        default:
            throw MimeticError.invalidModel("\(source): basis has shape \(shape); this model needs [K, \(outputSize / 3), 3] or [K, \(outputSize)] (its topology)")
        }
    }

    private static func names(_ store: TensorStore, count k: Int) throws -> [String] {
        let src = store.source
        for key in ["mimetic.blendshapes", "corpus.rig"] {
            guard let json = store.metadata[key] else { continue }
            let meta: JSONValue
            do { meta = try JSONValue(parsing: json) } catch {
                throw MimeticError.invalidModel("\(src): metadata '\(key)' is not valid JSON (\(error))")
            }
            guard let list = (meta["names"] ?? meta["basis"])?.arrayValue else {
                throw MimeticError.invalidModel("\(src): metadata '\(key)' has no list of names")
            }
            let names = list.compactMap(\.stringValue)
            guard names.count == list.count, names.count == k else {
                throw MimeticError.invalidModel("\(src): metadata '\(key)' names \(list.count) shapes; the basis has \(k)")
            }
            return names
        }
        return (0..<k).map { "shape_\($0)" }
    }
}
