import Foundation

/// Writes a safetensors file of float32/int32 tensors with string metadata (persona files).
enum SafeTensorsWriter {
    enum Tensor {
        case f32([Float], [Int])
        case i32([Int32], [Int])
    }

    static func write(path: String, tensors: [String: Tensor], metadata: [String: String]) throws {
        var header: [String: Any] = ["__metadata__": metadata]
        var data = Data()
        for name in tensors.keys.sorted() {
            let begin = data.count
            switch tensors[name]! {
            case .f32(let v, let shape):
                precondition(v.count == shape.reduce(1, *))
                v.withUnsafeBytes { data.append(contentsOf: $0) }
                header[name] = ["dtype": "F32", "shape": shape, "data_offsets": [begin, data.count]]
            case .i32(let v, let shape):
                precondition(v.count == shape.reduce(1, *))
                v.withUnsafeBytes { data.append(contentsOf: $0) }
                header[name] = ["dtype": "I32", "shape": shape, "data_offsets": [begin, data.count]]
            }
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while (8 + json.count) % 8 != 0 { json.append(0x20) }   // keep the data 8-byte aligned
        var file = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(json)
        file.append(data)
        do {
            try file.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw MimeticError.io("cannot write '\(path)': \(error.localizedDescription)")
        }
    }
}
