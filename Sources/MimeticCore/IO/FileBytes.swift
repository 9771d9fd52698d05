/// Why a whole-file read or write failed, in words from the C library
/// ("No such file or directory", "Permission denied", ...). Each file format
/// wraps this in its own error type so messages name the format as well.
struct FileAccessFailure: Error {
    var reason: String
}

/// Reads a whole file through stdio, so that a failure says what actually went
/// wrong (`strerror(errno)`).
func readFileBytes(atPath path: String) throws -> [UInt8] {
    guard let file = fopen(path, "rb") else {
        throw FileAccessFailure(reason: String(cString: strerror(errno)))
    }
    defer { fclose(file) }
    var info = stat()
    if fstat(fileno(file), &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
        throw FileAccessFailure(reason: "it is a directory")
    }
    var bytes: [UInt8] = []
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

/// Writes a whole file so that a reader sees either the old file or the complete new one, never
/// a part: into a temporary file beside it, then rename(2) over the target.
func writeFileBytesAtomically(_ bytes: [UInt8], toPath path: String) throws {
    let temporary = "\(path).tmp-\(getpid())"
    do {
        try writeFileBytes(bytes, toPath: temporary)
    } catch {
        unlink(temporary)
        throw error
    }
    if rename(temporary, path) != 0 {
        let reason = String(cString: strerror(errno))
        unlink(temporary)
        throw FileAccessFailure(reason: reason)
    }
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

/// A whole UTF-8 text file; `what` names it in the errors ("take", "phone labels") and `expected`
/// says what such a file should be ("a Live Link Face CSV is").
func readTextFile(atPath path: String, what: String, expected: String) throws -> String {
    let bytes: [UInt8]
    do { bytes = try readFileBytes(atPath: path) } catch let f as FileAccessFailure {
        throw MimeticError.io("cannot read \(what) '\(path)': \(f.reason)")
    }
    guard let text = String(validating: bytes, as: UTF8.self) else {
        throw MimeticError.invalidArgument("\(path): not a UTF-8 text file (\(expected))")
    }
    return text
}
