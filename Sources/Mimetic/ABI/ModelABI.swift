import MimeticCore
import Foundation

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

private let versionString: StaticString = "0.1.0"

@_cdecl("mimetic_version")
public func mimetic_version() -> UnsafePointer<CChar> {
    UnsafeRawPointer(versionString.utf8Start).assumingMemoryBound(to: CChar.self)
}

@_cdecl("mimetic_status_string")
public func mimetic_status_string(_ status: Int32) -> UnsafePointer<CChar> {
    let name = Status(rawValue: status)?.name ?? "unknown status"
    return UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self)
}

@_cdecl("mimetic_last_error")
public func mimetic_last_error() -> UnsafePointer<CChar> { LastError.message }

@_cdecl("mimetic_set_threads")
public func mimetic_set_threads(_ n: Int32) { Threading.setThreads(Int(max(1, n))) }

@_cdecl("mimetic_get_threads")
public func mimetic_get_threads() -> Int32 { Int32(Threading.threads) }

@_cdecl("mimetic_model_load")
public func mimetic_model_load(_ path: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return fail(.invalidArgument, "mimetic_model_load: out_model is NULL") }
    out.pointee = nil
    guard let path else { return fail(.invalidArgument, "mimetic_model_load: path is NULL") }
    return guarded {
        let handle = ModelHandle(try MimeticModel(path: String(cString: path)))
        out.pointee = OpaquePointer(Unmanaged.passRetained(handle).toOpaque())
        return .ok
    }
}

@_cdecl("mimetic_model_load_from_memory")
public func mimetic_model_load_from_memory(_ data: UnsafeRawPointer?, _ size: Int, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return fail(.invalidArgument, "mimetic_model_load_from_memory: out_model is NULL") }
    out.pointee = nil
    guard let data else { return fail(.invalidArgument, "mimetic_model_load_from_memory: data is NULL") }
    guard size > 0 else { return fail(.invalidArgument, "mimetic_model_load_from_memory: size is 0") }
    return guarded {
        let store = try TensorStore(bytes: UnsafeRawBufferPointer(start: data, count: size))
        let handle = ModelHandle(try MimeticModel(store: store))
        out.pointee = OpaquePointer(Unmanaged.passRetained(handle).toOpaque())
        return .ok
    }
}

@_cdecl("mimetic_model_free")
public func mimetic_model_free(_ model: OpaquePointer?) -> Int32 {
    guard let model else { return Status.ok.rawValue }
    let h = handle(model)
    let live = h.liveStreams
    guard live == 0 else {
        return fail(.wrongState, "mimetic_model_free: \(live) stream(s) still use this model; free them first (the model was not freed)")
    }
    Unmanaged<ModelHandle>.fromOpaque(UnsafeRawPointer(model)).release()
    return Status.ok.rawValue
}

func handle(_ p: OpaquePointer) -> ModelHandle { Unmanaged<ModelHandle>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue() }

/// Mirrors `mimetic_model_info` field for field (Swift lays out a struct of these types like C).
struct ModelInfoC {
    var struct_size: Int
    var family: Int32
    var sample_rate: Int32
    var fps: Int32
    var num_vertices: Int32
    var output_size: Int32
    var num_styles: Int32
    var style_dim: Int32
    var has_template: Int32
    var num_triangles: Int32
    var max_context_frames: Int32
    var min_lookahead_ms: Int32
    var max_lookahead_ms: Int32
}

@_cdecl("mimetic_model_get_info")
public func mimetic_model_get_info(_ model: OpaquePointer?, _ info: UnsafeMutableRawPointer?) -> Int32 {
    guard let model else { return fail(.invalidArgument, "mimetic_model_get_info: model is NULL") }
    guard let info else { return fail(.invalidArgument, "mimetic_model_get_info: info is NULL") }
    let size = info.load(as: Int.self)
    guard size >= MemoryLayout<Int>.size + 4 else {
        return fail(.invalidArgument, "mimetic_model_get_info: info->struct_size is \(size); set it to sizeof(mimetic_model_info)")
    }
    let m = handle(model).model
    let c = m.config
    var v = ModelInfoC(
        struct_size: min(size, MemoryLayout<ModelInfoC>.size),
        family: c.family == .faceformer ? 0 : c.family == .imitator ? 1 : 2,
        sample_rate: Int32(c.sample_rate), fps: Int32(c.fps), num_vertices: Int32(c.num_vertices),
        output_size: Int32(c.outputSize), num_styles: Int32(c.styleNames.count), style_dim: Int32(c.decoder.d_model),
        has_template: m.template == nil ? 0 : 1, num_triangles: Int32((m.triangles?.count ?? 0) / 3),
        max_context_frames: Int32(c.decoder.max_seq_len),
        min_lookahead_ms: Int32(StreamLimits.minLookaheadMs), max_lookahead_ms: Int32(StreamLimits.maxLookaheadMs))
    withUnsafeBytes(of: &v) { info.copyMemory(from: $0.baseAddress!, byteCount: min(size, MemoryLayout<ModelInfoC>.size)) }
    return Status.ok.rawValue
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
