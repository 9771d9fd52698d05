/// Every failure the core reports. Each case carries a message a person can act on; the C ABI
/// maps the cases to its status codes.
public enum MimeticError: Error, CustomStringConvertible, Equatable {
    /// A file could not be opened, read or written.
    case io(String)
    /// The model file is not a valid Mimetic model: corrupt, truncated, or inconsistent.
    case invalidModel(String)
    /// A valid file that asks for something this runtime does not implement.
    case unsupported(String)
    /// Audio that cannot be used (empty, NaN/Inf, too short).
    case invalidAudio(String)
    /// A caller error: wrong size, out-of-range index, wrong call order.
    case invalidArgument(String)
    /// The operation was cancelled by its caller.
    case cancelled
    /// A call out of order (e.g. push after flush).
    case wrongState(String)
    /// A caller buffer (or a stream's internal buffer) is too small; the message names the size needed.
    case bufferTooSmall(String)

    public var description: String {
        switch self {
        case .io(let m): return "I/O error: \(m)"
        case .invalidModel(let m): return "invalid model: \(m)"
        case .unsupported(let m): return "unsupported: \(m)"
        case .invalidAudio(let m): return "invalid audio: \(m)"
        case .invalidArgument(let m): return "invalid argument: \(m)"
        case .cancelled: return "cancelled"
        case .wrongState(let m): return "wrong state: \(m)"
        case .bufferTooSmall(let m): return "buffer too small: \(m)"
        }
    }
}
