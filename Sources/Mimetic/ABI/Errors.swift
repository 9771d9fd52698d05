import MimeticCore
import Foundation

/// Status codes of include/mimetic.h.
enum Status: Int32 {
    case ok = 0, invalidArgument = 1, io = 2, invalidModel = 3, unsupported = 4, invalidAudio = 5, bufferTooSmall = 6, internalError = 7,
         notReady = 8, wrongState = 9, cancelled = 10

    var name: StaticString {
        switch self {
        case .ok: return "ok"
        case .invalidArgument: return "invalid argument"
        case .io: return "I/O error"
        case .invalidModel: return "invalid model"
        case .unsupported: return "unsupported"
        case .invalidAudio: return "invalid audio"
        case .bufferTooSmall: return "buffer too small"
        case .internalError: return "internal error"
        case .notReady: return "not ready"
        case .wrongState: return "wrong state"
        case .cancelled: return "cancelled"
        }
    }
}

/// The calling thread's last error message, kept as a C string that stays valid until the
/// thread's next failure (the header's contract).
final class LastError {
    private var storage: UnsafeMutablePointer<CChar>?
    private static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k) { if let p = $0 { Unmanaged<LastError>.fromOpaque(p).release() } }
        return k
    }()
    private static let empty: UnsafePointer<CChar> = {
        let p = UnsafeMutablePointer<CChar>.allocate(capacity: 1); p[0] = 0; return UnsafePointer(p)
    }()

    static var current: LastError {
        if let p = pthread_getspecific(key) { return Unmanaged<LastError>.fromOpaque(p).takeUnretainedValue() }
        let e = LastError()
        pthread_setspecific(key, Unmanaged.passRetained(e).toOpaque())
        return e
    }

    static func set(_ message: String) {
        let e = current
        e.storage?.deallocate()
        e.storage = strdup(message)
    }

    static var message: UnsafePointer<CChar> { current.storage.map { UnsafePointer($0) } ?? empty }

    deinit { storage?.deallocate() }
}

@discardableResult
func fail(_ status: Status, _ message: String) -> Int32 {
    LastError.set(message)
    logError(message)
    return status.rawValue
}

/// Runs `body`, converting thrown errors to a status code plus message.
func guarded(_ body: () throws -> Status) -> Int32 {
    do {
        return try body().rawValue
    } catch let e as MimeticError {
        switch e {
        case .io: return fail(.io, e.description)
        case .invalidModel: return fail(.invalidModel, e.description)
        case .unsupported: return fail(.unsupported, e.description)
        case .invalidAudio: return fail(.invalidAudio, e.description)
        case .invalidArgument: return fail(.invalidArgument, e.description)
        case .cancelled: return fail(.cancelled, e.description)
        case .wrongState: return fail(.wrongState, e.description)
        case .bufferTooSmall: return fail(.bufferTooSmall, e.description)
        }
    } catch {
        return fail(.internalError, "\(error)")
    }
}
