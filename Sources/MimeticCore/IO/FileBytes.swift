#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Why a whole-file read or write failed, in words from the C library
/// ("No such file or directory", "Permission denied", ...). Each file format
/// wraps this in its own error type so messages name the format as well.
struct FileAccessFailure: Error {
    var reason: String
}

/// Reads a whole file. Uses stdio rather than `Data(contentsOf:)` because on
/// Linux Foundation's error text is often just "The operation could not be
/// completed", while `strerror(errno)` says what actually went wrong.
func readFileBytes(atPath path: String) throws -> Data {
    guard let file = fopen(path, "rb") else {
        throw FileAccessFailure(reason: String(cString: strerror(errno)))
    }
    defer { fclose(file) }
    var info = stat()
    if fstat(fileno(file), &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
        throw FileAccessFailure(reason: "it is a directory")
    }
    var bytes = Data()
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
        if count > 0 { bytes.append(contentsOf: chunk[0..<count]) }
        if count < chunk.count {
            if ferror(file) != 0 {
                throw FileAccessFailure(reason: String(cString: strerror(errno)))
            }
            return bytes
        }
    }
}

/// Writes (creating or replacing) a whole file.
func writeFileBytes(_ bytes: UnsafeRawBufferPointer, toPath path: String) throws {
    guard let file = fopen(path, "wb") else {
        throw FileAccessFailure(reason: String(cString: strerror(errno)))
    }
    let written = bytes.count == 0 ? 0 : fwrite(bytes.baseAddress, 1, bytes.count, file)
    let writeErrno = errno
    // fclose flushes, so a full disk may only show up here.
    let closed = fclose(file)
    if written != bytes.count {
        throw FileAccessFailure(reason: String(cString: strerror(writeErrno)))
    }
    if closed != 0 {
        throw FileAccessFailure(reason: String(cString: strerror(errno)))
    }
}

func writeFileBytes(_ bytes: [UInt8], toPath path: String) throws {
    try bytes.withUnsafeBytes { try writeFileBytes($0, toPath: path) }
}

/// Creates a directory and any missing parents (like `mkdir -p`).
func createDirectories(atPath path: String) throws {
    var prefix = path.hasPrefix("/") ? "/" : ""
    for component in path.split(separator: "/") {
        prefix += component
        if mkdir(prefix, 0o777) != 0 && errno != EEXIST {
            throw FileAccessFailure(reason: "cannot create \(prefix): \(String(cString: strerror(errno)))")
        }
        prefix += "/"
    }
    var info = stat()
    guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
        throw FileAccessFailure(reason: "it exists and is not a directory")
    }
}
