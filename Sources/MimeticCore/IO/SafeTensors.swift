
/// The header of a safetensors file, parsed and validated against the byte range it describes.
///
/// Layout: 8-byte little-endian header length n, n bytes of JSON, then the data region. Each
/// tensor's `data_offsets` are relative to the data region. Everything is checked before any
/// tensor is touched, so a corrupt or truncated file is an error, never an out-of-bounds read.
struct SafeTensorsHeader {
    enum DType: String {
        case f32 = "F32", f16 = "F16", bf16 = "BF16", i32 = "I32", f64 = "F64", i64 = "I64"
        var size: Int {
            switch self {
            case .f16, .bf16: return 2
            case .f32, .i32: return 4
            case .f64, .i64: return 8
            }
        }
    }

    struct Entry {
        let name: String
        let dtype: DType
        let shape: [Int]
        let begin: Int   // byte offset inside the data region
        let end: Int
        var count: Int { shape.reduce(1, *) }
    }

    let entries: [String: Entry]
    let metadata: [String: String]
    let dataOffset: Int   // absolute offset of the data region in the file

    /// The largest header we accept: real ones are kilobytes; a corrupt length must not make us
    /// allocate gigabytes.
    static let maxHeaderBytes = 100 << 20

    init(bytes: UnsafeRawBufferPointer, source: String) throws {
        let total = bytes.count
        guard total >= 8 else {
            throw MimeticError.invalidModel("\(source): \(total) bytes is too short for a safetensors file (needs at least an 8-byte header length)")
        }
        let n64 = bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self).littleEndian
        guard n64 > 1, n64 <= UInt64(Self.maxHeaderBytes) else {
            throw MimeticError.invalidModel("\(source): header length \(n64) is not plausible (file is not safetensors, or is corrupt)")
        }
        let n = Int(n64)
        guard 8 + n <= total else {
            throw MimeticError.invalidModel("\(source): header claims \(n) bytes but the file has only \(total - 8) after the length field (truncated file?)")
        }
        let header: JSONValue
        do {
            header = try JSONValue(parsing: UnsafeRawBufferPointer(rebasing: bytes[8..<8 + n]))
        } catch let error as JSONParseError {
            throw MimeticError.invalidModel("\(source): the safetensors header is not valid JSON (\(error))")
        }
        guard let dict = header.objectValue else {
            throw MimeticError.invalidModel("\(source): the safetensors header is not a JSON object")
        }
        dataOffset = 8 + n
        let dataSize = total - dataOffset
        var entries: [String: Entry] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in dict {
            if name == "__metadata__" {
                guard let m = value.objectValue else {
                    throw MimeticError.invalidModel("\(source): __metadata__ is not an object")
                }
                for (k, v) in m {
                    guard let s = v.stringValue else {
                        throw MimeticError.invalidModel("\(source): metadata value for '\(k)' is not a string")
                    }
                    metadata[k] = s
                }
                continue
            }
            guard let dtypeName = value["dtype"]?.stringValue,
                  let shapeAny = value["shape"]?.arrayValue,
                  let offsAny = value["data_offsets"]?.arrayValue, offsAny.count == 2 else {
                throw MimeticError.invalidModel("\(source): tensor '\(name)' has a malformed header entry (needs dtype, shape, data_offsets)")
            }
            guard let dtype = DType(rawValue: dtypeName) else {
                throw MimeticError.invalidModel("\(source): tensor '\(name)' has unsupported dtype \(dtypeName) (supported: F32, F16, BF16, I32, F64, I64)")
            }
            var shape: [Int] = []
            for d in shapeAny {
                guard let v = d.intValue, v >= 0, v < (1 << 40) else {
                    throw MimeticError.invalidModel("\(source): tensor '\(name)' has an invalid shape \(JSONValue.array(shapeAny).serialized)")
                }
                shape.append(v)
            }
            guard let b = offsAny[0].intValue, let e = offsAny[1].intValue, b >= 0, e >= b else {
                throw MimeticError.invalidModel("\(source): tensor '\(name)' has invalid data_offsets \(JSONValue.array(offsAny).serialized)")
            }
            guard e <= dataSize else {
                throw MimeticError.invalidModel("\(source): tensor '\(name)' ends at byte \(e) of the data region, which has only \(dataSize) bytes (truncated file?)")
            }
            let (count, overflow) = shape.reduce((1, false)) { acc, d in
                let (p, o) = acc.0.multipliedReportingOverflow(by: d)
                return (p, acc.1 || o)
            }
            guard !overflow, count.multipliedReportingOverflow(by: dtype.size).partialValue == e - b else {
                throw MimeticError.invalidModel("\(source): tensor '\(name)' has shape \(shape) of \(dtypeName) (\(count * dtype.size) bytes) but occupies \(e - b) bytes")
            }
            entries[name] = Entry(name: name, dtype: dtype, shape: shape, begin: b, end: e)
        }
        // Tensors must not overlap: a crafted header could otherwise alias two weights.
        let sorted = entries.values.filter { $0.end > $0.begin }.sorted { $0.begin < $1.begin }
        for i in sorted.indices.dropFirst() where sorted[i].begin < sorted[i - 1].end {
            throw MimeticError.invalidModel("\(source): tensors '\(sorted[i - 1].name)' and '\(sorted[i].name)' overlap in the data region")
        }
        self.entries = entries
        self.metadata = metadata
    }
}
