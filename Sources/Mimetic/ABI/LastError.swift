import MimeticCore   // re-exports the C library (Platform/LibC.swift)

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
