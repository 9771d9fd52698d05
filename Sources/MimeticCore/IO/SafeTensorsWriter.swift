/// Writes a safetensors file of float32/int32 tensors with string metadata (persona files).
enum SafeTensorsWriter {
    enum Tensor {
        case f32([Float], [Int])
        case i32([Int32], [Int])
    }

    static func write(path: String, tensors: [String: Tensor], metadata: [String: String]) throws {
        var header: [String: JSONValue] = ["__metadata__": .object(metadata.mapValues { .string($0) })]
        var data: [UInt8] = []
        for name in tensors.keys.sorted() {
            let begin = data.count
            let dtype: String, shape: [Int]
            switch tensors[name]! {
            case .f32(let v, let s):
                precondition(v.count == s.reduce(1, *))
                v.withUnsafeBytes { data.append(contentsOf: $0) }
                dtype = "F32"; shape = s
            case .i32(let v, let s):
                precondition(v.count == s.reduce(1, *))
                v.withUnsafeBytes { data.append(contentsOf: $0) }
                dtype = "I32"; shape = s
            }
            header[name] = .object(["dtype": .string(dtype), "shape": .array(shape.map { .integer($0) }),
                                    "data_offsets": .array([.integer(begin), .integer(data.count)])])
        }
        var json = Array(JSONValue.object(header).serialized.utf8)
        while (8 + json.count) % 8 != 0 { json.append(0x20) }   // keep the data 8-byte aligned
        var file: [UInt8] = []
        file.reserveCapacity(8 + json.count + data.count)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(contentsOf: json)
        file.append(contentsOf: data)
        do {
            try writeFileBytesAtomically(file, toPath: path)
        } catch let failure as FileAccessFailure {
            throw MimeticError.io("cannot write '\(path)': \(failure.reason)")
        }
    }
}
