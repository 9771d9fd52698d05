/// A glTF 2.0 asset of an animation that a DCC tool or an engine opens: the model's neutral mesh
/// (positions, normals, triangles) with the blendshape basis as morph targets (their names in
/// `mesh.extras.targetNames`, the common convention) and the weights as a morph-target animation
/// at the track's frame rate (linear interpolation). `.glb` (binary) or `.gltf` (JSON with the
/// buffer embedded as a base64 data URI). Written atomically (a temporary file, then a rename).
///
/// ```swift
/// var state = arkit.makeState()
/// let track = try WeightTrack(names: arkit.names, weights: arkit.solve(frames: animation.offsets, state: &state).weights, fps: 30)
/// try GLTFExport(model: model, basis: arkit.basisValues, track: track)
///     .write(to: "line.glb", binary: true, generator: "Mimetic 0.9")
/// ```
public struct GLTFExport {
    public var template: [Float]      // V × 3
    public var triangles: [Int32]     // F × 3
    public var basis: [Float]         // K × V × 3, shape-major, in the track's name order
    public var track: WeightTrack

    /// The model's neutral mesh with `basis` (a retarget's `basisValues`, in the track's name order).
    public init(model: MimeticModel, basis: [Float], track: WeightTrack) throws {
        try self.init(template: model.template ?? [], triangles: model.triangles ?? [], basis: basis, track: track)
    }

    public init(template: [Float], triangles: [Int32], basis: [Float], track: WeightTrack) throws {
        let v = template.count / 3
        guard v > 0, template.count % 3 == 0, !triangles.isEmpty, triangles.count % 3 == 0 else {
            throw MimeticError.invalidArgument("glTF export needs the model's template mesh and triangles; this model has none")
        }
        guard triangles.allSatisfy({ $0 >= 0 && Int($0) < v }) else {
            throw MimeticError.invalidArgument("glTF export: a triangle index is outside the \(v) vertices")
        }
        guard basis.count == track.names.count * template.count else {
            throw MimeticError.invalidArgument("glTF export: the basis holds \(basis.count) values, not \(track.names.count) shapes of \(template.count)")
        }
        self.template = template
        self.triangles = triangles
        self.basis = basis
        self.track = track
    }

    /// The file's bytes.
    public func encoded(binary: Bool, generator: String) -> [UInt8] {
        let v = template.count / 3, k = track.names.count, t = track.frames
        var bin: [UInt8] = []
        var views: [JSONValue] = []
        var accessors: [JSONValue] = []
        func align() { while bin.count % 4 != 0 { bin.append(0) } }
        /// Appends values as a buffer view (4-byte aligned) and an accessor over it; returns the accessor index.
        func add(_ values: [Float], type: String, count: Int, target: Int? = nil, minMax: Bool = false) -> Int {
            align()
            let offset = bin.count
            values.withUnsafeBytes { bin.append(contentsOf: $0) }
            var view: [String: JSONValue] = ["buffer": .integer(0), "byteOffset": .integer(offset), "byteLength": .integer(values.count * 4)]
            if let target { view["target"] = .integer(target) }
            views.append(.object(view))
            var accessor: [String: JSONValue] = ["bufferView": .integer(views.count - 1), "componentType": .integer(5126),
                                                 "count": .integer(count), "type": .string(type)]
            if minMax {
                let width = type == "VEC3" ? 3 : 1
                var lo = [Float](repeating: .infinity, count: width), hi = [Float](repeating: -.infinity, count: width)
                for i in 0..<count { for c in 0..<width { lo[c] = min(lo[c], values[i * width + c]); hi[c] = max(hi[c], values[i * width + c]) } }
                accessor["min"] = .array(lo.map { .double(Double($0)) })
                accessor["max"] = .array(hi.map { .double(Double($0)) })
            }
            accessors.append(.object(accessor))
            return accessors.count - 1
        }
        let position = add(template, type: "VEC3", count: v, target: 34962, minMax: true)
        let normal = add(Self.vertexNormals(template, triangles), type: "VEC3", count: v, target: 34962)
        // Indices (uint32).
        align()
        let indexOffset = bin.count
        triangles.map(UInt32.init).withUnsafeBytes { bin.append(contentsOf: $0) }
        views.append(.object(["buffer": .integer(0), "byteOffset": .integer(indexOffset), "byteLength": .integer(triangles.count * 4),
                              "target": .integer(34963)]))
        accessors.append(.object(["bufferView": .integer(views.count - 1), "componentType": .integer(5125),
                                  "count": .integer(triangles.count), "type": .string("SCALAR")]))
        let indices = accessors.count - 1
        var targets: [JSONValue] = []
        for i in 0..<k {
            let shape = Array(basis[(i * v * 3)..<((i + 1) * v * 3)])
            targets.append(.object(["POSITION": .integer(add(shape, type: "VEC3", count: v, target: 34962, minMax: true))]))
        }
        let times = (0..<t).map { Float($0) / Float(track.fps) }
        let input = add(times, type: "SCALAR", count: t, minMax: true)
        let output = add(track.weights, type: "SCALAR", count: t * k)
        align()
        let buffer: JSONValue = binary ? .object(["byteLength": .integer(bin.count)])
            : .object(["byteLength": .integer(bin.count), "uri": .string("data:application/octet-stream;base64," + Self.base64(bin))])
        let primitive: JSONValue = .object(["attributes": .object(["POSITION": .integer(position), "NORMAL": .integer(normal)]),
                                            "indices": .integer(indices), "mode": .integer(4), "targets": .array(targets)])
        let json: JSONValue = .object([
            "asset": .object(["version": .string("2.0"), "generator": .string(generator)]),
            "scene": .integer(0),
            "scenes": .array([.object(["nodes": .array([.integer(0)])])]),
            "nodes": .array([.object(["mesh": .integer(0), "name": .string("face")])]),
            "meshes": .array([.object(["name": .string("face"), "primitives": .array([primitive]),
                                       "weights": .array([JSONValue](repeating: .double(0), count: k)),
                                       "extras": .object(["targetNames": .array(track.names.map { .string($0) })])])]),
            "animations": .array([.object([
                "name": .string("speech"),
                "samplers": .array([.object(["input": .integer(input), "output": .integer(output), "interpolation": .string("LINEAR")])]),
                "channels": .array([.object(["sampler": .integer(0), "target": .object(["node": .integer(0), "path": .string("weights")])])]),
            ])]),
            "buffers": .array([buffer]),
            "bufferViews": .array(views),
            "accessors": .array(accessors),
        ])
        var text = Array(json.serialized.utf8)
        guard binary else { return text }
        while text.count % 4 != 0 { text.append(0x20) }
        var file: [UInt8] = []
        file.reserveCapacity(28 + text.count + bin.count)
        func u32(_ x: Int) { withUnsafeBytes(of: UInt32(x).littleEndian) { file.append(contentsOf: $0) } }
        u32(0x4654_6C67); u32(2); u32(12 + 8 + text.count + 8 + bin.count)   // "glTF", version, length
        u32(text.count); u32(0x4E4F_534A); file.append(contentsOf: text)      // JSON chunk
        u32(bin.count); u32(0x004E_4942); file.append(contentsOf: bin)        // BIN chunk
        return file
    }

    public func write(to path: String, binary: Bool, generator: String) throws {
        do {
            try writeFileBytesAtomically(encoded(binary: binary, generator: generator), toPath: path)
        } catch let failure as FileAccessFailure {
            throw MimeticError.io("cannot write '\(path)': \(failure.reason)")
        }
    }

    /// Area-weighted vertex normals of a triangle mesh (unit length; +z for a vertex in no triangle).
    static func vertexNormals(_ p: [Float], _ tri: [Int32]) -> [Float] {
        var n = [Float](repeating: 0, count: p.count)
        for f in stride(from: 0, to: tri.count, by: 3) {
            let a = Int(tri[f]) * 3, b = Int(tri[f + 1]) * 3, c = Int(tri[f + 2]) * 3
            let u = (p[b] - p[a], p[b + 1] - p[a + 1], p[b + 2] - p[a + 2])
            let w = (p[c] - p[a], p[c + 1] - p[a + 1], p[c + 2] - p[a + 2])
            let cross = (u.1 * w.2 - u.2 * w.1, u.2 * w.0 - u.0 * w.2, u.0 * w.1 - u.1 * w.0)
            for i in [a, b, c] { n[i] += cross.0; n[i + 1] += cross.1; n[i + 2] += cross.2 }
        }
        for i in stride(from: 0, to: n.count, by: 3) {
            let len = (n[i] * n[i] + n[i + 1] * n[i + 1] + n[i + 2] * n[i + 2]).squareRoot()
            if len > 0 { n[i] /= len; n[i + 1] /= len; n[i + 2] /= len } else { n[i + 2] = 1 }
        }
        return n
    }

    /// RFC 4648 base64 with padding: the .gltf's embedded buffer (Foundation's encoder, which the
    /// core does without, did this before).
    static func base64(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let b0 = UInt32(bytes[i]), b1 = i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0, b2 = i + 2 < bytes.count ? UInt32(bytes[i + 2]) : 0
            let n = b0 << 16 | b1 << 8 | b2
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(i + 1 < bytes.count ? alphabet[Int(n >> 6 & 63)] : UInt8(ascii: "="))
            out.append(i + 2 < bytes.count ? alphabet[Int(n & 63)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
