import Foundation
import MimeticCore

/// A glTF 2.0 asset of the animation that a DCC tool or an engine opens: the model's neutral mesh
/// (positions, normals, triangles) with the blendshape basis as morph targets (their names in
/// `mesh.extras.targetNames`, the common convention) and the weights as a morph-target animation
/// at the model's frame rate (linear interpolation). `.glb` (binary) or `.gltf` (JSON with the
/// buffer embedded as a data URI).
enum GLTFWriter {
    struct Asset {
        var template: [Float]      // V × 3
        var triangles: [Int32]     // F × 3
        var basis: [Float]         // K × V × 3
        var track: WeightTrack
    }

    static func write(_ asset: Asset, to path: String, binary: Bool) throws {
        let v = asset.template.count / 3, k = asset.track.names.count, t = asset.track.frames
        guard v > 0, !asset.triangles.isEmpty else {
            throw MimeticError.invalidArgument("glTF export needs the model's template mesh and triangles; this model has none")
        }
        var bin = Data()
        var views: [[String: Any]] = []
        var accessors: [[String: Any]] = []
        /// Appends bytes as a buffer view (4-byte aligned) and an accessor over it; returns the accessor index.
        func add(_ values: [Float], type: String, count: Int, target: Int? = nil, minMax: Bool = false) -> Int {
            while bin.count % 4 != 0 { bin.append(0) }
            let offset = bin.count
            values.withUnsafeBytes { bin.append(contentsOf: $0) }
            var view: [String: Any] = ["buffer": 0, "byteOffset": offset, "byteLength": values.count * 4]
            if let target { view["target"] = target }
            views.append(view)
            var accessor: [String: Any] = ["bufferView": views.count - 1, "componentType": 5126, "count": count, "type": type]
            if minMax {
                let width = type == "VEC3" ? 3 : 1
                var lo = [Float](repeating: .infinity, count: width), hi = [Float](repeating: -.infinity, count: width)
                for i in 0..<count { for c in 0..<width { lo[c] = min(lo[c], values[i * width + c]); hi[c] = max(hi[c], values[i * width + c]) } }
                accessor["min"] = lo.map(Double.init)
                accessor["max"] = hi.map(Double.init)
            }
            accessors.append(accessor)
            return accessors.count - 1
        }
        let position = add(asset.template, type: "VEC3", count: v, target: 34962, minMax: true)
        let normal = add(vertexNormals(asset.template, asset.triangles), type: "VEC3", count: v, target: 34962)
        // Indices (uint32).
        while bin.count % 4 != 0 { bin.append(0) }
        let indexOffset = bin.count
        asset.triangles.map(UInt32.init).withUnsafeBytes { bin.append(contentsOf: $0) }
        views.append(["buffer": 0, "byteOffset": indexOffset, "byteLength": asset.triangles.count * 4, "target": 34963])
        accessors.append(["bufferView": views.count - 1, "componentType": 5125, "count": asset.triangles.count, "type": "SCALAR"])
        let indices = accessors.count - 1
        var targets: [[String: Any]] = []
        for i in 0..<k {
            let shape = Array(asset.basis[(i * v * 3)..<((i + 1) * v * 3)])
            targets.append(["POSITION": add(shape, type: "VEC3", count: v, target: 34962, minMax: true)])
        }
        let times = (0..<t).map { Float($0) / Float(asset.track.fps) }
        let input = add(times, type: "SCALAR", count: t, minMax: true)
        let output = add(asset.track.weights, type: "SCALAR", count: t * k)
        let json: [String: Any] = [
            "asset": ["version": "2.0", "generator": "Mimetic \(MimeticCLI.configuration.version)"],
            "scene": 0,
            "scenes": [["nodes": [0]]],
            "nodes": [["mesh": 0, "name": "face"]],
            "meshes": [["name": "face", "primitives": [["attributes": ["POSITION": position, "NORMAL": normal], "indices": indices,
                                                         "mode": 4, "targets": targets]],
                        "weights": [Double](repeating: 0, count: k), "extras": ["targetNames": asset.track.names]]],
            "animations": [["name": "speech", "samplers": [["input": input, "output": output, "interpolation": "LINEAR"]],
                            "channels": [["sampler": 0, "target": ["node": 0, "path": "weights"]]]]],
            "buffers": [binary ? ["byteLength": bin.count] : ["byteLength": bin.count,
                                                                "uri": "data:application/octet-stream;base64," + bin.base64EncodedString()]],
            "bufferViews": views,
            "accessors": accessors,
        ]
        var text = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .withoutEscapingSlashes])
        var file = Data()
        if binary {
            while text.count % 4 != 0 { text.append(0x20) }
            while bin.count % 4 != 0 { bin.append(0) }
            func u32(_ x: Int) { withUnsafeBytes(of: UInt32(x).littleEndian) { file.append(contentsOf: $0) } }
            u32(0x4654_6C67); u32(2); u32(12 + 8 + text.count + 8 + bin.count)   // "glTF", version, length
            u32(text.count); u32(0x4E4F_534A); file.append(text)                  // JSON chunk
            u32(bin.count); u32(0x004E_4942); file.append(bin)                    // BIN chunk
        } else {
            file = text
        }
        do {
            try file.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw MimeticError.io("cannot write '\(path)': \(error.localizedDescription)")
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
}
