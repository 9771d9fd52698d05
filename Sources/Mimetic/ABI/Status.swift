import CMimeticABI
import MimeticCore

/// `mimetic_status`, as include/mimetic.h defines it.
typealias Status = mimetic_status

extension mimetic_status {
    /// The constant English name `mimetic_status_string` returns.
    var name: StaticString {
        switch self {
        case MIMETIC_OK: return "ok"
        case MIMETIC_ERROR_INVALID_ARGUMENT: return "invalid argument"
        case MIMETIC_ERROR_IO: return "I/O error"
        case MIMETIC_ERROR_INVALID_MODEL: return "invalid model"
        case MIMETIC_ERROR_UNSUPPORTED: return "unsupported"
        case MIMETIC_ERROR_INVALID_AUDIO: return "invalid audio"
        case MIMETIC_ERROR_BUFFER_TOO_SMALL: return "buffer too small"
        case MIMETIC_ERROR_INTERNAL: return "internal error"
        case MIMETIC_ERROR_NOT_READY: return "not ready"
        case MIMETIC_ERROR_WRONG_STATE: return "wrong state"
        case MIMETIC_ERROR_CANCELLED: return "cancelled"
        default: return "unknown status"
        }
    }

    /// The status a core error maps to.
    init(_ e: MimeticError) {
        switch e {
        case .io: self = MIMETIC_ERROR_IO
        case .invalidModel: self = MIMETIC_ERROR_INVALID_MODEL
        case .unsupported: self = MIMETIC_ERROR_UNSUPPORTED
        case .invalidAudio: self = MIMETIC_ERROR_INVALID_AUDIO
        case .invalidArgument: self = MIMETIC_ERROR_INVALID_ARGUMENT
        case .cancelled: self = MIMETIC_ERROR_CANCELLED
        case .wrongState: self = MIMETIC_ERROR_WRONG_STATE
        case .bufferTooSmall: self = MIMETIC_ERROR_BUFFER_TOO_SMALL
        }
    }

    /// What a C function returns.
    var code: Int32 { Int32(bitPattern: rawValue) }
}

/// Records `message` as the calling thread's last error, logs it, and returns `status`'s code.
@discardableResult
func fail(_ status: Status, _ message: String) -> Int32 {
    LastError.set(message)
    logError(message)
    return status.code
}

/// Runs `body`, converting thrown errors to a status code plus message.
func guarded(_ body: () throws -> Status) -> Int32 {
    do {
        return try body().code
    } catch let e as MimeticError {
        return fail(Status(e), e.description)
    } catch let e as WAVError {
        if case .cannotRead = e { return fail(MIMETIC_ERROR_IO, e.description) }
        return fail(MIMETIC_ERROR_INVALID_AUDIO, e.description)
    } catch {
        return fail(MIMETIC_ERROR_INTERNAL, "\(error)")
    }
}

/// A broken invariant of the library itself: reported as MIMETIC_ERROR_INTERNAL with its message.
struct InternalFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
