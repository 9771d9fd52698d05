
/// NumPy .npy files (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
/// "\x93NUMPY", a version, a little-endian header length, a Python dict
/// literal describing dtype, order and shape, then the raw elements.

private let npyMagic: [UInt8] = [0x93] + Array("NUMPY".utf8)

/// Writes `data` as a C-ordered float32 array of the given shape (format 1.0,
/// dtype '<f4', header padded so the data starts on a 64-byte boundary, as
/// NumPy itself writes it). An empty shape writes a 0-d array.
public func writeNPY(path: String, data: [Float], shape: [Int]) throws {
    let elementCount = shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).partialValue }
    guard shape.allSatisfy({ $0 >= 0 }), elementCount == data.count else {
        throw NPYError.shapeMismatch(path: path, shape: shape, elementCount: data.count)
    }
    let shapeText = shape.count == 1
        ? "(\(shape[0]),)"
        : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
    // Version 1.0 has a 2-byte header length; only absurdly many dimensions need 2.0.
    let lengthFieldSize = header.utf8.count + 64 > Int(UInt16.max) ? 4 : 2
    let prefixSize = npyMagic.count + 2 + lengthFieldSize
    header += String(repeating: " ", count: 63 - (prefixSize + header.utf8.count) % 64) + "\n"

    var bytes = npyMagic
    bytes.reserveCapacity(prefixSize + header.utf8.count + 4 * data.count)
    bytes += lengthFieldSize == 2 ? [1, 0] : [2, 0]
    if lengthFieldSize == 2 {
        bytes.appendLittleEndian(UInt16(header.utf8.count))
    } else {
        bytes.appendLittleEndian(UInt32(header.utf8.count))
    }
    bytes.appendASCII(header)
    #if _endian(little)
    data.withUnsafeBytes { bytes.append(contentsOf: $0) }
    #else
    for value in data { bytes.appendLittleEndian(value.bitPattern) }
    #endif
    do {
        try writeFileBytes(bytes, toPath: path)
    } catch let failure as FileAccessFailure {
        throw NPYError.cannotWrite(path: path, reason: failure.reason)
    }
}

/// Reads a C-ordered little-endian array of float32 ('<f4'), float64 ('<f8')
/// or int32 ('<i4'), converting elements to Float (float64 and int32 values
/// round to the nearest Float; int32 magnitudes above 2^24 lose precision).
/// Bytes after the last element are ignored, as NumPy does.
public func readNPY(path: String) throws -> (data: [Float], shape: [Int]) {
    let bytes: [UInt8]
    do {
        bytes = try readFileBytes(atPath: path)
    } catch let failure as FileAccessFailure {
        throw NPYError.cannotRead(path: path, reason: failure.reason)
    }
    return try bytes.withUnsafeBytes { try parseNPY($0, path: path) }
}

/// The same from bytes in memory; `name` stands in for the path in errors.
public func readNPY(bytes: UnsafeRawBufferPointer, name: String) throws -> (data: [Float], shape: [Int]) {
    try parseNPY(bytes, path: name)
}

private enum NPYElementType {
    case float32, float64, int32

    var size: Int { self == .float64 ? 8 : 4 }
}

private func parseNPY(_ bytes: UnsafeRawBufferPointer, path: String) throws -> (data: [Float], shape: [Int]) {
    guard bytes.count >= 8, Array(bytes[0..<6]) == npyMagic else {
        throw NPYError.badMagic(
            path: path, found: printableASCII(UnsafeRawBufferPointer(rebasing: bytes.prefix(6))))
    }
    let major = Int(bytes[6])
    let minor = Int(bytes[7])
    let lengthFieldSize: Int
    switch major {
    case 1: lengthFieldSize = 2
    case 2, 3: lengthFieldSize = 4  // 3.0 only allows UTF-8 in the header
    default: throw NPYError.unsupportedVersion(path: path, major: major, minor: minor)
    }
    guard bytes.count >= 8 + lengthFieldSize else {
        throw NPYError.malformedHeader(path: path, reason: "the file ends inside the header length field")
    }
    let headerLength = lengthFieldSize == 2
        ? Int(bytes.littleEndianUInt16(at: 8)) : Int(bytes.littleEndianUInt32(at: 8))
    let headerStart = 8 + lengthFieldSize
    guard headerLength <= bytes.count - headerStart else {
        throw NPYError.malformedHeader(
            path: path,
            reason: "it declares \(headerLength) bytes but only \(bytes.count - headerStart) remain in the file")
    }
    let (elementType, shape) = try parseNPYHeader(
        UnsafeRawBufferPointer(rebasing: bytes[headerStart..<headerStart + headerLength]), path: path)

    var elementCount = 1
    for dimension in shape {
        let (product, overflow) = elementCount.multipliedReportingOverflow(by: dimension)
        guard !overflow else { throw NPYError.malformedHeader(path: path, reason: "shape \(shape) is too large") }
        elementCount = product
    }
    let dataStart = headerStart + headerLength
    let expectedBytes = elementCount * elementType.size
    let presentBytes = bytes.count - dataStart
    guard presentBytes >= expectedBytes else {
        throw NPYError.truncated(path: path, expectedBytes: expectedBytes, presentBytes: presentBytes)
    }
    let payload = UnsafeRawBufferPointer(rebasing: bytes[dataStart..<dataStart + expectedBytes])
    let data = [Float](unsafeUninitializedCapacity: elementCount) { output, initialized in
        for index in 0..<elementCount {
            let offset = index * elementType.size
            switch elementType {
            case .float32:
                output[index] = Float(bitPattern: payload.littleEndianUInt32(at: offset))
            case .float64:
                let bits = UInt64(littleEndian: payload.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                output[index] = Float(Double(bitPattern: bits))
            case .int32:
                output[index] = Float(Int32(bitPattern: payload.littleEndianUInt32(at: offset)))
            }
        }
        initialized = elementCount
    }
    return (data, shape)
}

private func parseNPYHeader(
    _ header: UnsafeRawBufferPointer, path: String
) throws -> (NPYElementType, [Int]) {
    guard let text = String(validating: header, as: UTF8.self) else {
        throw NPYError.malformedHeader(path: path, reason: "the header is not UTF-8 text")
    }
    let literal: PythonLiteral
    do {
        literal = try parsePythonLiteral(text)
    } catch let error as PythonLiteralSyntaxError {
        throw NPYError.malformedHeader(path: path, reason: error.reason)
    }
    guard case .dict = literal else {
        throw NPYError.malformedHeader(path: path, reason: "the header is not a dict")
    }

    let descr: String
    switch literal["descr"] {
    case let .string(code)?:
        descr = code
    case .tuple?:
        throw NPYError.unsupportedDType(path: path, descr: "structured (record) dtype")
    default:
        throw NPYError.malformedHeader(path: path, reason: "no 'descr' string")
    }
    let elementType: NPYElementType
    switch descr {
    case "<f4": elementType = .float32
    case "<f8": elementType = .float64
    case "<i4": elementType = .int32
    case _ where descr.hasPrefix(">"):
        throw NPYError.bigEndian(path: path, descr: descr)
    case _ where descr.contains("O"):
        throw NPYError.objectArray(path: path, descr: descr)
    default:
        throw NPYError.unsupportedDType(path: path, descr: descr)
    }

    guard case let .bool(fortranOrder)? = literal["fortran_order"] else {
        throw NPYError.malformedHeader(path: path, reason: "no 'fortran_order' True/False")
    }
    // A Fortran-ordered array with at most one dimension longer than 1 has
    // the same layout as C order, but NumPy only writes True for arrays that
    // are genuinely column-major, so any True is refused.
    guard !fortranOrder else { throw NPYError.fortranOrder(path: path) }

    guard case let .tuple(dimensions)? = literal["shape"] else {
        throw NPYError.malformedHeader(path: path, reason: "no 'shape' tuple")
    }
    let shape = try dimensions.map { dimension -> Int in
        guard case let .integer(size) = dimension, size >= 0 else {
            throw NPYError.malformedHeader(path: path, reason: "shape entries must be non-negative integers")
        }
        return size
    }
    return (elementType, shape)
}
