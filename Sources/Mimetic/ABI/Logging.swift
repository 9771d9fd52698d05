import MimeticCore   // re-exports the C library (Platform/LibC.swift)
import CMimeticABI

private var logLock = pthread_mutex_t()
private let logLockReady: Void = { pthread_mutex_init(&logLock, nil) }()
private nonisolated(unsafe) var logCallback: mimetic_log_callback?
private nonisolated(unsafe) var logUser: UnsafeMutableRawPointer?

@_cdecl("mimetic_log_set")
public func mimetic_log_set(_ cb: mimetic_log_callback?, _ user: UnsafeMutableRawPointer?) {
    _ = logLockReady
    pthread_mutex_lock(&logLock)
    logCallback = cb
    logUser = user
    pthread_mutex_unlock(&logLock)
}

/// Sends an error message to the installed callback (called on failures only).
func logError(_ message: String) {
    _ = logLockReady
    pthread_mutex_lock(&logLock)
    let cb = logCallback, user = logUser
    pthread_mutex_unlock(&logLock)
    guard let cb else { return }
    message.withCString { cb(MIMETIC_LOG_ERROR, $0, user) }
}
