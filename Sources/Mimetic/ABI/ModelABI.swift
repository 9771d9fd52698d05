import CMimeticABI
import MimeticCore

/// The object behind a `mimetic_model *`: the model plus C strings the ABI hands out.
final class ModelHandle {
    let model: MimeticModel
    let styleNames: [UnsafeMutablePointer<CChar>]
    /// Streams alive on this model (creation and free are not real-time calls: a lock is fine).
    private var streams = 0
    private var lock = pthread_mutex_t()

    init(_ model: MimeticModel) {
        self.model = model
        styleNames = model.styleNames.map { strdup($0)! }
        pthread_mutex_init(&lock, nil)
    }
    deinit {
        styleNames.forEach { free($0) }
        pthread_mutex_destroy(&lock)
    }

    func streamOpened() { pthread_mutex_lock(&lock); streams += 1; pthread_mutex_unlock(&lock) }
    func streamClosed() { pthread_mutex_lock(&lock); streams -= 1; pthread_mutex_unlock(&lock) }
    var liveStreams: Int { pthread_mutex_lock(&lock); defer { pthread_mutex_unlock(&lock) }; return streams }
}

@_cdecl("mimetic_model_load")
public func mimetic_model_load(_ path: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_model_load: out_model is NULL") }
    out.pointee = nil
    guard let path else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_model_load: path is NULL") }
    return guarded {
        let handle = ModelHandle(try MimeticModel(path: String(cString: path)))
        out.pointee = OpaquePointer(Unmanaged.passRetained(handle).toOpaque())
        return MIMETIC_OK
    }
}

@_cdecl("mimetic_model_load_from_memory")
public func mimetic_model_load_from_memory(_ data: UnsafeRawPointer?, _ size: UInt, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_model_load_from_memory: out_model is NULL") }
    out.pointee = nil
    guard let data else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_model_load_from_memory: data is NULL") }
    guard size > 0 else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_model_load_from_memory: size is 0") }
    return guarded {
        let store = try TensorStore(bytes: UnsafeRawBufferPointer(start: data, count: CallerSize.count(size, "size", function: "mimetic_model_load_from_memory")))
        let handle = ModelHandle(try MimeticModel(store: store))
        out.pointee = OpaquePointer(Unmanaged.passRetained(handle).toOpaque())
        return MIMETIC_OK
    }
}

@_cdecl("mimetic_model_free")
public func mimetic_model_free(_ model: OpaquePointer?) -> Int32 {
    guard let model else { return MIMETIC_OK.code }
    let h = handle(model)
    let live = h.liveStreams
    guard live == 0 else {
        return fail(MIMETIC_ERROR_WRONG_STATE, "mimetic_model_free: \(live) stream(s) still use this model; free them first (the model was not freed)")
    }
    Unmanaged<ModelHandle>.fromOpaque(UnsafeRawPointer(model)).release()
    return MIMETIC_OK.code
}

func handle(_ p: OpaquePointer) -> ModelHandle { Unmanaged<ModelHandle>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue() }

/// mimetic_model_info's first version held only `family` after struct_size: older callers may pass that little.
private let oldestModelInfo = MemoryLayout<Int>.size + 4

@_cdecl("mimetic_model_get_info")
public func mimetic_model_get_info(_ model: OpaquePointer?, _ info: UnsafeMutablePointer<mimetic_model_info>?) -> Int32 {
    guard let model else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_model_get_info: model is NULL") }
    guard let info else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_model_get_info: info is NULL") }
    return guarded {
        let m = handle(model).model
        let c = m.config
        var v = mimetic_model_info()
        v.family = c.family == .faceformer ? MIMETIC_FAMILY_FACEFORMER : c.family == .imitator ? MIMETIC_FAMILY_IMITATOR : MIMETIC_FAMILY_MIMIC
        v.sample_rate = Int32(c.sample_rate)
        v.fps = Int32(c.fps)
        v.num_vertices = Int32(c.num_vertices)
        v.output_size = Int32(c.outputSize)
        v.num_styles = Int32(c.styleNames.count)
        v.style_dim = Int32(c.decoder.d_model)
        v.has_template = m.template == nil ? 0 : 1
        v.num_triangles = Int32((m.triangles?.count ?? 0) / 3)
        v.max_context_frames = Int32(c.decoder.max_seq_len)
        v.min_lookahead_ms = Int32(StreamLimits.minLookaheadMs)
        v.max_lookahead_ms = Int32(StreamLimits.maxLookaheadMs)
        v.latency_tunable = m.realtimeLookaheadSamples == nil ? 1 : 0
        v.encoder_lookahead_ms = Int32(((m.realtimeLookaheadSamples ?? 0) * 1000 / Double(c.sample_rate)).rounded(.up))
        try VersionedStruct.write(v, to: info, oldest: oldestModelInfo, function: "mimetic_model_get_info",
                                  hint: "set it to sizeof(mimetic_model_info)")
        return MIMETIC_OK
    }
}

@_cdecl("mimetic_model_style_name")
public func mimetic_model_style_name(_ model: OpaquePointer?, _ index: Int32) -> UnsafePointer<CChar>? {
    guard let model else { LastError.set("mimetic_model_style_name: model is NULL"); return nil }
    let h = handle(model)
    guard index >= 0, Int(index) < h.styleNames.count else {
        LastError.set("mimetic_model_style_name: index \(index) out of range (0..<\(h.styleNames.count))")
        return nil
    }
    return UnsafePointer(h.styleNames[Int(index)])
}

@_cdecl("mimetic_model_get_template")
public func mimetic_model_get_template(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<Float>?, _ capacity: UInt) -> Int32 {
    guard let model else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_model_get_template: model is NULL") }
    guard let out else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_model_get_template: out is NULL") }
    let m = handle(model).model
    guard let t = m.template else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_model_get_template: this model file carries no template mesh") }
    guard CallerSize.capacity(capacity) >= t.count else {
        return fail(MIMETIC_ERROR_BUFFER_TOO_SMALL, "mimetic_model_get_template: capacity \(capacity) floats; the template has \(t.count)")
    }
    t.withUnsafeBufferPointer { out.update(from: $0.baseAddress!, count: t.count) }
    return MIMETIC_OK.code
}

@_cdecl("mimetic_style_from_motion")
public func mimetic_style_from_motion(_ model: OpaquePointer?, _ offsets: UnsafePointer<Float>?, _ frames: UInt,
                                      _ out: UnsafeMutablePointer<Float>?, _ capacity: UInt) -> Int32 {
    guard let model else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_style_from_motion: model is NULL") }
    guard let offsets else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_style_from_motion: offsets is NULL") }
    guard let out else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_style_from_motion: code_out is NULL") }
    guard frames > 0 else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_style_from_motion: frames is 0") }
    return guarded {
        let m = handle(model).model
        let d = m.config.decoder.d_model
        guard CallerSize.capacity(capacity) >= d else { throw MimeticError.bufferTooSmall("mimetic_style_from_motion: capacity \(capacity); a style code has \(d) floats") }
        let n = try CallerSize.count(frames, "frames", function: "mimetic_style_from_motion")
        let (floats, overflow) = n.multipliedReportingOverflow(by: m.outputSize)
        guard !overflow, floats <= CallerSize.maxCount else {
            throw MimeticError.invalidArgument("mimetic_style_from_motion: \(frames) frames of \(m.outputSize) floats is larger than any clip can be")
        }
        let motion = Matrix(rows: n, cols: m.outputSize, data: Array(UnsafeBufferPointer(start: offsets, count: floats)))
        let code = try m.styleCode(fromMotion: motion)
        code.withUnsafeBufferPointer { out.update(from: $0.baseAddress!, count: d) }
        return MIMETIC_OK
    }
}
