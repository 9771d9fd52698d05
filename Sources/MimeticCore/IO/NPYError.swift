/// Everything that can go wrong reading or writing a NumPy .npy file; every
/// case carries the path so the message stands on its own.
public enum NPYError: Error, Equatable, CustomStringConvertible {
    case cannotRead(path: String, reason: String)
    case cannotWrite(path: String, reason: String)
    /// The file does not start with "\x93NUMPY"; `found` shows what it starts with.
    case badMagic(path: String, found: String)
    case unsupportedVersion(path: String, major: Int, minor: Int)
    case malformedHeader(path: String, reason: String)
    case bigEndian(path: String, descr: String)
    case objectArray(path: String, descr: String)
    case unsupportedDType(path: String, descr: String)
    case fortranOrder(path: String)
    /// Fewer data bytes than the header's shape and dtype call for.
    case truncated(path: String, expectedBytes: Int, presentBytes: Int)
    /// Writing: the shape's element count differs from the data's, or has a negative dimension.
    case shapeMismatch(path: String, shape: [Int], elementCount: Int)

    public var description: String {
        switch self {
        case let .cannotRead(path, reason):
            return "\(path): cannot read .npy file: \(reason)"
        case let .cannotWrite(path, reason):
            return "\(path): cannot write .npy file: \(reason)"
        case let .badMagic(path, found):
            return "\(path): not a .npy file: expected \"\\x93NUMPY\" at the start, found \"\(found)\""
        case let .unsupportedVersion(path, major, minor):
            return "\(path): unsupported .npy format version \(major).\(minor) (1.0, 2.0 and 3.0 can be read)"
        case let .malformedHeader(path, reason):
            return "\(path): malformed .npy header: \(reason)"
        case let .bigEndian(path, descr):
            return "\(path): big-endian arrays (dtype '\(descr)') are not supported; "
                + "save a little-endian copy, e.g. `a.astype('<f4')`"
        case let .objectArray(path, descr):
            return "\(path): object arrays (dtype '\(descr)', pickled Python objects) are not supported; "
                + "save a numeric array"
        case let .unsupportedDType(path, descr):
            return "\(path): unsupported dtype '\(descr)'; supported: '<f4' (float32), '<f8' (float64), "
                + "'<i4' (int32)"
        case let .fortranOrder(path):
            return "\(path): Fortran-ordered (column-major) arrays are not supported; "
                + "save with `np.save(path, np.ascontiguousarray(a))`"
        case let .truncated(path, expectedBytes, presentBytes):
            return "\(path): truncated .npy file: the header's shape and dtype need \(expectedBytes) "
                + "data bytes but only \(presentBytes) are present"
        case let .shapeMismatch(path, shape, elementCount):
            return "\(path): cannot write .npy file: shape \(shape) does not describe \(elementCount) elements"
        }
    }
}
