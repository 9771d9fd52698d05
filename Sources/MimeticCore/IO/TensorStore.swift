import CKernels
/// The bytes of a model file, memory-mapped (or an owned copy for in-memory loads), with typed,
/// validated access to its tensors by name. Aligned float32 tensors are used in place: loading a
/// model copies nothing but float16/bfloat16 tensors, which are widened once.
public final class TensorStore: @unchecked Sendable {
    let header: SafeTensorsHeader
    public let source: String
    private let base: UnsafeRawPointer
    private let byteCount: Int
    private let release: () -> Void
    private var converted: [FloatStorage] = []

    public var metadata: [String: String] { header.metadata }
    public var tensorNames: [String] { header.entries.keys.sorted() }

    /// Maps `path` read-only.
    public convenience init(path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw MimeticError.io("cannot open '\(path)': \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw MimeticError.io("cannot stat '\(path)': \(String(cString: strerror(errno)))")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw MimeticError.io("'\(path)' is not a regular file")
        }
        let size = Int(st.st_size)
        guard size > 0 else { throw MimeticError.invalidModel("'\(path)' is empty") }
        // MAP_POPULATE: every weight is read at load (validateAllFinite), so map the whole file in one
        // call rather than a page fault at a time: from disk, 240 -> 143 ms for a 386 MB model (docs/performance.md).
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0), p != MAP_FAILED else {
            throw MimeticError.io("cannot map '\(path)': \(String(cString: strerror(errno)))")
        }
        try self.init(base: UnsafeRawPointer(p), count: size, source: path) { munmap(p, size) }
    }

    /// Copies `bytes` (the caller's buffer may be freed after this returns).
    public convenience init(bytes: UnsafeRawBufferPointer, source: String = "<memory>") throws {
        guard bytes.count > 0, let src = bytes.baseAddress else {
            throw MimeticError.invalidModel("\(source): empty buffer")
        }
        // 64-byte alignment so that float32 tensors at aligned offsets can be used in place.
        let p = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 64)
        p.copyMemory(from: src, byteCount: bytes.count)
        try self.init(base: UnsafeRawPointer(p), count: bytes.count, source: source) { p.deallocate() }
    }

    private init(base: UnsafeRawPointer, count: Int, source: String, release: @escaping () -> Void) throws {
        self.base = base
        self.byteCount = count
        self.source = source
        self.release = release
        do {
            header = try SafeTensorsHeader(bytes: UnsafeRawBufferPointer(start: base, count: count), source: source)
        } catch {
            release()
            throw error
        }
    }

    deinit { release() }

    public func has(_ name: String) -> Bool { header.entries[name] != nil }

    public func shape(of name: String) -> [Int]? { header.entries[name]?.shape }

    /// A float tensor whose shape must equal `shape` exactly.
    public func weight(_ name: String, shape: [Int]) throws -> Weight {
        guard let e = header.entries[name] else {
            throw MimeticError.invalidModel("\(source): missing tensor '\(name)' (expected shape \(shape))")
        }
        guard e.shape == shape else {
            throw MimeticError.invalidModel("\(source): tensor '\(name)' has shape \(e.shape), the config implies \(shape)")
        }
        return try floatView(e)
    }

    /// Same as `weight`, or nil when the tensor is absent.
    public func optionalWeight(_ name: String, shape: [Int]) throws -> Weight? {
        guard has(name) else { return nil }
        return try weight(name, shape: shape)
    }

    /// An int32 tensor (triangles, vertex indices), copied.
    public func int32s(_ name: String) throws -> (values: [Int32], shape: [Int])? {
        guard let e = header.entries[name] else { return nil }
        guard e.dtype == .i32 else {
            throw MimeticError.invalidModel("\(source): tensor '\(name)' must be I32, found \(e.dtype.rawValue)")
        }
        let p = base + header.dataOffset + e.begin
        var out = [Int32](repeating: 0, count: e.count)
        for i in 0..<e.count { out[i] = Int32(littleEndian: p.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)) }
        return (out, e.shape)
    }

    private func floatView(_ e: SafeTensorsHeader.Entry) throws -> Weight {
        let p = base + header.dataOffset + e.begin
        let n = e.count
        switch e.dtype {
        case .f32:
            if Int(bitPattern: p) % MemoryLayout<Float>.alignment == 0 {
                return Weight(pointer: p.assumingMemoryBound(to: Float.self), shape: e.shape, name: e.name)
            }
            let s = keep(FloatStorage(uninitializedCount: n))
            memcpy(s.pointer, p, n * 4)
            return try checkedFinite(Weight(pointer: s.pointer, shape: e.shape, name: e.name))
        case .f16:
            let s = keep(FloatStorage(uninitializedCount: n))
            let bad = weight_widen_f16(p, n, s.pointer)   // vectorised (F16C where the CPU has it), with the check
            if bad < n { throw nonFinite(e.name, at: bad) }
            return Weight(pointer: s.pointer, shape: e.shape, name: e.name)
        case .bf16:
            let s = keep(FloatStorage(uninitializedCount: n))
            for i in 0..<n {
                let bits = UInt32(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))) << 16
                s.pointer[i] = Float(bitPattern: bits)
            }
            return try checkedFinite(Weight(pointer: s.pointer, shape: e.shape, name: e.name))
        default:
            throw MimeticError.invalidModel("\(source): tensor '\(e.name)' is \(e.dtype.rawValue); weights must be F32, F16 or BF16")
        }
    }

    private func keep(_ s: FloatStorage) -> FloatStorage { converted.append(s); return s }

    private func checkedFinite(_ w: Weight) throws -> Weight {
        try checkFinite(w.pointer, count: w.count, name: w.name)
        return w
    }

    /// The one load-time NaN/Inf check (`weight_scan_f32`, at memory speed), for every tensor.
    private func checkFinite(_ p: UnsafeRawPointer, count: Int, name: String) throws {
        let bad = weight_scan_f32(p, count)
        if bad < count { throw nonFinite(name, at: bad) }
    }

    private func nonFinite(_ name: String, at index: Int) -> MimeticError {
        MimeticError.invalidModel("\(source): tensor '\(name)' holds a non-finite value at index \(index)")
    }

    /// Scans every float tensor for NaN/Inf. Model loading calls this once, so a corrupt weight
    /// is reported at load rather than as NaN animation later (`weight_scan_f32`).
    func validateAllFinite() throws {
        for e in header.entries.values where e.dtype == .f32 {
            try checkFinite(base + header.dataOffset + e.begin, count: e.count, name: e.name)
        }
    }
}
