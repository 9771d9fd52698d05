import CMimeticABI
import MimeticCore

// The header's first section: version, status names, the last error, threads. (Logging:
// Logging.swift.)

/// MIMETIC_VERSION_STRING of include/mimetic.h, kept in static storage for C.
private let versionString: UnsafePointer<CChar> = {
    let v = MIMETIC_VERSION_STRING
    let p = UnsafeMutablePointer<CChar>.allocate(capacity: v.utf8.count + 1)
    v.withCString { p.update(from: $0, count: v.utf8.count + 1) }
    return UnsafePointer(p)
}()

@_cdecl("mimetic_version")
public func mimetic_version() -> UnsafePointer<CChar> { versionString }

@_cdecl("mimetic_status_string")
public func mimetic_status_string(_ status: Int32) -> UnsafePointer<CChar> {
    let name = Status(rawValue: UInt32(bitPattern: status)).name
    return UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self)
}

@_cdecl("mimetic_last_error")
public func mimetic_last_error() -> UnsafePointer<CChar> { LastError.message }

@_cdecl("mimetic_set_threads")
public func mimetic_set_threads(_ n: Int32) { Threading.setThreads(Int(max(1, n))) }

@_cdecl("mimetic_get_threads")
public func mimetic_get_threads() -> Int32 { Int32(Threading.threads) }
