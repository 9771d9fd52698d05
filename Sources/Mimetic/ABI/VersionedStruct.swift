import MimeticCore

/// The one rule for the header's versioned structs, whose first field is `size_t struct_size`:
/// a caller may pass this version's struct, an older smaller one (down to `oldest` bytes: the
/// fields it lacks keep their defaults, and nothing past its end is written), or a later larger
/// one (up to 4 KiB more: the fields this version does not know are ignored).
enum VersionedStruct {
    static let slack = 4096

    /// The caller's `struct_size`, checked against the rule.
    static func size<T>(of p: UnsafeRawPointer, _ type: T.Type, oldest: Int, function: String, hint: String) throws -> Int {
        let size = p.load(as: Int.self)
        guard size >= oldest, size <= MemoryLayout<T>.stride + slack else {
            throw MimeticError.invalidArgument("\(function): \(structName(T.self))->struct_size is \(size); \(hint) (sizeof is \(MemoryLayout<T>.stride) in this version)")
        }
        return size
    }

    /// Reads the caller's struct over `defaults`.
    static func read<T>(_ p: UnsafeRawPointer, defaults: T, oldest: Int = MemoryLayout<T>.stride, function: String,
                        hint: String = "initialise it with its _init function") throws -> T {
        let size = try size(of: p, T.self, oldest: oldest, function: function, hint: hint)
        var v = defaults
        withUnsafeMutableBytes(of: &v) { $0.copyMemory(from: UnsafeRawBufferPointer(start: p, count: min(size, MemoryLayout<T>.stride))) }
        return v
    }

    /// Writes `value` into the caller's struct, as much of it as the caller's size holds (its
    /// `struct_size` is left as the caller set it).
    static func write<T>(_ value: T, to p: UnsafeMutableRawPointer, oldest: Int = MemoryLayout<T>.stride, function: String,
                         hint: String = "set it to sizeof") throws {
        let size = try size(of: p, T.self, oldest: oldest, function: function, hint: hint)
        var v = value
        withUnsafeBytes(of: &v) { b in
            let n = min(size, MemoryLayout<T>.stride) - MemoryLayout<Int>.size
            if n > 0 { (p + MemoryLayout<Int>.size).copyMemory(from: b.baseAddress! + MemoryLayout<Int>.size, byteCount: n) }
        }
    }

    private static func structName<T>(_ t: T.Type) -> String { String(describing: t) }
}
