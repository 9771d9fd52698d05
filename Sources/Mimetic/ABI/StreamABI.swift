import Foundation
import MimeticCore

/// The object behind a `mimetic_stream *`. It keeps its model's handle alive, and the model
/// handle counts its streams so that `mimetic_model_free` can refuse while any exist.
final class StreamHandle {
    let engine: StreamEngine
    let model: ModelHandle
    init(engine: StreamEngine, model: ModelHandle) {
        self.engine = engine
        self.model = model
        model.streamOpened()
    }
    deinit { model.streamClosed() }
}

private func stream(_ p: OpaquePointer) -> StreamHandle { Unmanaged<StreamHandle>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue() }

// MARK: Params (read and written by byte offset: the layout of include/mimetic.h, LP64)

enum ParamsC {
    static let size = 88
    static let sampleRate = 8, lookahead = 12, leftContext = 16, hop = 20, maxQueued = 24, styleSlot = 28
    static let styleWeights = 32, styleCode = 40, samplePolicy = 48, styleWeightsCount = 56, styleCodeCount = 64,
                     persona = 72, reservePersonaBasis = 80
}

enum FrameInfoC { static let size = 48 }
enum StatsC { static let size = 48 }

/// The struct sizes the library accepts: this version's, or a later, larger one (whose extra
/// fields are ignored); never smaller, never absurd.
private func checkStructSize(_ size: Int, minimum: Int, name: String, function: String) -> Int32? {
    guard size >= minimum, size <= minimum + 4096 else {
        return fail(.invalidArgument, "\(function): \(name)->struct_size is \(size); set it to sizeof(\(name)) (\(minimum) in this version)")
    }
    return nil
}

private func readParams(_ p: UnsafeRawPointer, function: String) throws -> (StreamParams, Int32, UnsafeBufferPointer<Float>?, UnsafeBufferPointer<Float>?, PersonaHandle?) {
    let size = p.load(as: Int.self)
    guard size >= ParamsC.size, size <= ParamsC.size + 4096 else {
        throw MimeticError.invalidArgument("\(function): params->struct_size is \(size); initialise params with mimetic_stream_params_init (sizeof is \(ParamsC.size) in this version)")
    }
    var s = StreamParams()
    s.sampleRate = Int(p.load(fromByteOffset: ParamsC.sampleRate, as: Int32.self))
    s.lookaheadMs = Int(p.load(fromByteOffset: ParamsC.lookahead, as: Int32.self))
    s.leftContextMs = Int(p.load(fromByteOffset: ParamsC.leftContext, as: Int32.self))
    s.hopMs = Int(p.load(fromByteOffset: ParamsC.hop, as: Int32.self))
    s.maxQueuedFrames = Int(p.load(fromByteOffset: ParamsC.maxQueued, as: Int32.self))
    let policy = p.load(fromByteOffset: ParamsC.samplePolicy, as: Int32.self)
    guard let sp = StreamParams.SamplePolicy(rawValue: policy) else {
        throw MimeticError.invalidArgument("\(function): params->sample_policy \(policy) is not a mimetic_sample_policy")
    }
    s.samplePolicy = sp
    let slot = p.load(fromByteOffset: ParamsC.styleSlot, as: Int32.self)
    let weights = p.load(fromByteOffset: ParamsC.styleWeights, as: UnsafePointer<Float>?.self)
    let code = p.load(fromByteOffset: ParamsC.styleCode, as: UnsafePointer<Float>?.self)
    let wn = p.load(fromByteOffset: ParamsC.styleWeightsCount, as: Int.self)
    let cn = p.load(fromByteOffset: ParamsC.styleCodeCount, as: Int.self)
    let persona = p.load(fromByteOffset: ParamsC.persona, as: OpaquePointer?.self).map(personaHandle)
    s.reserveBasisDelta = p.load(fromByteOffset: ParamsC.reservePersonaBasis, as: Int32.self) != 0 || persona?.persona.basisWeightDelta != nil
    return (s, slot, weights.map { UnsafeBufferPointer(start: $0, count: wn) }, code.map { UnsafeBufferPointer(start: $0, count: cn) }, persona)
}

@_cdecl("mimetic_stream_params_init")
public func mimetic_stream_params_init(_ p: UnsafeMutableRawPointer?) {
    guard let p else { return }
    let d = StreamParams()
    p.initializeMemory(as: UInt8.self, repeating: 0, count: ParamsC.size)
    p.storeBytes(of: ParamsC.size, as: Int.self)
    p.storeBytes(of: Int32(d.sampleRate), toByteOffset: ParamsC.sampleRate, as: Int32.self)
    p.storeBytes(of: Int32(d.lookaheadMs), toByteOffset: ParamsC.lookahead, as: Int32.self)
    p.storeBytes(of: Int32(d.leftContextMs), toByteOffset: ParamsC.leftContext, as: Int32.self)
    p.storeBytes(of: Int32(d.hopMs), toByteOffset: ParamsC.hop, as: Int32.self)
    p.storeBytes(of: Int32(d.maxQueuedFrames), toByteOffset: ParamsC.maxQueued, as: Int32.self)
    p.storeBytes(of: Int32(0), toByteOffset: ParamsC.styleSlot, as: Int32.self)
    p.storeBytes(of: d.samplePolicy.rawValue, toByteOffset: ParamsC.samplePolicy, as: Int32.self)
}

@_cdecl("mimetic_stream_state_size")
public func mimetic_stream_state_size(_ model: OpaquePointer?, _ params: UnsafeRawPointer?, _ out: UnsafeMutablePointer<Int>?) -> Int32 {
    guard let model else { return fail(.invalidArgument, "mimetic_stream_state_size: model is NULL") }
    guard let params else { return fail(.invalidArgument, "mimetic_stream_state_size: params is NULL") }
    guard let out else { return fail(.invalidArgument, "mimetic_stream_state_size: out_bytes is NULL") }
    return guarded {
        let (p, _, _, _, _) = try readParams(params, function: "mimetic_stream_state_size")
        out.pointee = try StreamEngine.stateSize(model: handle(model).model, params: p)
        return .ok
    }
}

@_cdecl("mimetic_stream_create")
public func mimetic_stream_create(_ model: OpaquePointer?, _ params: UnsafeRawPointer?, _ buffer: UnsafeMutableRawPointer?,
                                  _ bytes: Int, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return fail(.invalidArgument, "mimetic_stream_create: out_stream is NULL") }
    out.pointee = nil
    guard let model else { return fail(.invalidArgument, "mimetic_stream_create: model is NULL") }
    guard let params else { return fail(.invalidArgument, "mimetic_stream_create: params is NULL") }
    return guarded {
        let mh = handle(model)
        let m = mh.model
        let (p, slot, weights, code, persona) = try readParams(params, function: "mimetic_stream_create")
        var style: [Float]
        guard slot >= -1 else {
            throw MimeticError.invalidArgument("mimetic_stream_create: style_slot \(slot) is out of range (a slot index, or -1 for style_weights/style_code)")
        }
        if let persona {
            style = persona.persona.style
        } else if slot >= 0 {
            style = try m.styleVector(.slot(Int(slot)))
        } else if let weights {
            style = try m.styleVector(.weights(Array(weights)))
        } else if let code {
            style = try m.styleVector(.code(Array(code)))
        } else {
            throw MimeticError.invalidArgument("mimetic_stream_create: style_slot is -1 but neither style_weights nor style_code is set")
        }
        let engine = try StreamEngine(model: m, params: p, style: style, buffer: buffer, bytes: bytes)
        if let persona { try engine.setPersona(persona.persona) }
        out.pointee = OpaquePointer(Unmanaged.passRetained(StreamHandle(engine: engine, model: mh)).toOpaque())
        return .ok
    }
}

@_cdecl("mimetic_stream_get_state_size")
public func mimetic_stream_get_state_size(_ s: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> Int32 {
    guard let s else { return fail(.invalidArgument, "mimetic_stream_get_state_size: stream is NULL") }
    guard let out else { return fail(.invalidArgument, "mimetic_stream_get_state_size: out_bytes is NULL") }
    out.pointee = stream(s).engine.byteCount
    return Status.ok.rawValue
}

@_cdecl("mimetic_stream_get_latency")
public func mimetic_stream_get_latency(_ s: OpaquePointer?, _ out: UnsafeMutablePointer<Double>?) -> Int32 {
    guard let s else { return fail(.invalidArgument, "mimetic_stream_get_latency: stream is NULL") }
    guard let out else { return fail(.invalidArgument, "mimetic_stream_get_latency: out_seconds is NULL") }
    out.pointee = stream(s).engine.algorithmicLatency
    return Status.ok.rawValue
}

@_cdecl("mimetic_stream_free")
public func mimetic_stream_free(_ s: OpaquePointer?) {
    guard let s else { return }
    Unmanaged<StreamHandle>.fromOpaque(UnsafeRawPointer(s)).release()
}

@_cdecl("mimetic_stream_push_audio")
public func mimetic_stream_push_audio(_ s: OpaquePointer?, _ samples: UnsafePointer<Float>?, _ n: Int) -> Int32 {
    guard let s else { return fail(.invalidArgument, "mimetic_stream_push_audio: stream is NULL") }
    if n == 0 { return Status.ok.rawValue }
    guard let samples else { return fail(.invalidArgument, "mimetic_stream_push_audio: samples is NULL (with n = \(n))") }
    return guarded { try stream(s).engine.push(samples, count: n); return .ok }
}

@_cdecl("mimetic_stream_push_audio_i16")
public func mimetic_stream_push_audio_i16(_ s: OpaquePointer?, _ samples: UnsafePointer<Int16>?, _ n: Int) -> Int32 {
    guard let s else { return fail(.invalidArgument, "mimetic_stream_push_audio_i16: stream is NULL") }
    if n == 0 { return Status.ok.rawValue }
    guard let samples else { return fail(.invalidArgument, "mimetic_stream_push_audio_i16: samples is NULL (with n = \(n))") }
    return guarded { try stream(s).engine.push(int16: samples, count: n); return .ok }
}

@_cdecl("mimetic_stream_frames_ready")
public func mimetic_stream_frames_ready(_ s: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> Int32 {
    guard let s else { return fail(.invalidArgument, "mimetic_stream_frames_ready: stream is NULL") }
    guard let out else { return fail(.invalidArgument, "mimetic_stream_frames_ready: out_count is NULL") }
    out.pointee = stream(s).engine.framesReady()
    return Status.ok.rawValue
}

@_cdecl("mimetic_stream_pull_frame")
public func mimetic_stream_pull_frame(_ s: OpaquePointer?, _ offsets: UnsafeMutablePointer<Float>?, _ capacity: Int,
                                      _ info: UnsafeMutableRawPointer?) -> Int32 {
    guard let s else { return fail(.invalidArgument, "mimetic_stream_pull_frame: stream is NULL") }
    guard let offsets else { return fail(.invalidArgument, "mimetic_stream_pull_frame: offsets is NULL") }
    if let info {
        let size = info.load(as: Int.self)
        if let e = checkStructSize(size, minimum: FrameInfoC.size, name: "mimetic_frame_info", function: "mimetic_stream_pull_frame") { return e }
    }
    return guarded {
        // No frame yet is a normal answer in a real-time loop: no message, no allocation.
        guard let f = try stream(s).engine.pull(into: offsets, capacity: capacity) else { return .notReady }
        if let info {
            info.storeBytes(of: f.frameIndex, toByteOffset: 8, as: Int.self)
            info.storeBytes(of: f.timestampSeconds, toByteOffset: 16, as: Double.self)
            info.storeBytes(of: f.timestampSamples, toByteOffset: 24, as: Int.self)
            info.storeBytes(of: f.latencySeconds, toByteOffset: 32, as: Double.self)
            info.storeBytes(of: Int32(f.isFinal ? 1 : 0), toByteOffset: 40, as: Int32.self)
        }
        return .ok
    }
}

@_cdecl("mimetic_stream_flush")
public func mimetic_stream_flush(_ s: OpaquePointer?) -> Int32 {
    guard let s else { return fail(.invalidArgument, "mimetic_stream_flush: stream is NULL") }
    return guarded { try stream(s).engine.flush(); return .ok }
}

@_cdecl("mimetic_stream_reset")
public func mimetic_stream_reset(_ s: OpaquePointer?) -> Int32 {
    guard let s else { return fail(.invalidArgument, "mimetic_stream_reset: stream is NULL") }
    stream(s).engine.reset()
    return Status.ok.rawValue
}

@_cdecl("mimetic_stream_snapshot")
public func mimetic_stream_snapshot(_ s: OpaquePointer?, _ buffer: UnsafeMutableRawPointer?, _ capacity: Int) -> Int32 {
    guard let s else { return fail(.invalidArgument, "mimetic_stream_snapshot: stream is NULL") }
    guard let buffer else { return fail(.invalidArgument, "mimetic_stream_snapshot: buffer is NULL") }
    return guarded { try stream(s).engine.snapshot(into: buffer, capacity: capacity); return .ok }
}

@_cdecl("mimetic_stream_restore")
public func mimetic_stream_restore(_ s: OpaquePointer?, _ buffer: UnsafeRawPointer?, _ size: Int) -> Int32 {
    guard let s else { return fail(.invalidArgument, "mimetic_stream_restore: stream is NULL") }
    guard let buffer else { return fail(.invalidArgument, "mimetic_stream_restore: buffer is NULL") }
    return guarded { try stream(s).engine.restore(from: buffer, size: size); return .ok }
}

@_cdecl("mimetic_stream_set_style_slot")
public func mimetic_stream_set_style_slot(_ s: OpaquePointer?, _ slot: Int32) -> Int32 {
    guard let s else { return fail(.invalidArgument, "mimetic_stream_set_style_slot: stream is NULL") }
    return guarded { try stream(s).engine.setStyleSlot(Int(slot)); return .ok }
}

@_cdecl("mimetic_stream_set_style_weights")
public func mimetic_stream_set_style_weights(_ s: OpaquePointer?, _ w: UnsafePointer<Float>?, _ n: Int) -> Int32 {
    guard let s else { return fail(.invalidArgument, "mimetic_stream_set_style_weights: stream is NULL") }
    guard let w else { return fail(.invalidArgument, "mimetic_stream_set_style_weights: weights is NULL") }
    return guarded { try stream(s).engine.setStyleWeights(w, count: n); return .ok }
}

@_cdecl("mimetic_stream_set_style_code")
public func mimetic_stream_set_style_code(_ s: OpaquePointer?, _ code: UnsafePointer<Float>?, _ n: Int) -> Int32 {
    guard let s else { return fail(.invalidArgument, "mimetic_stream_set_style_code: stream is NULL") }
    guard let code else { return fail(.invalidArgument, "mimetic_stream_set_style_code: code is NULL") }
    return guarded { try stream(s).engine.setStyle(code, count: n); return .ok }
}

@_cdecl("mimetic_stream_get_stats")
public func mimetic_stream_get_stats(_ s: OpaquePointer?, _ out: UnsafeMutableRawPointer?) -> Int32 {
    guard let s else { return fail(.invalidArgument, "mimetic_stream_get_stats: stream is NULL") }
    guard let out else { return fail(.invalidArgument, "mimetic_stream_get_stats: stats is NULL") }
    if let e = checkStructSize(out.load(as: Int.self), minimum: StatsC.size, name: "mimetic_stream_stats", function: "mimetic_stream_get_stats") { return e }
    let st = stream(s).engine.stats
    out.storeBytes(of: st.samplesPushed, toByteOffset: 8, as: Int.self)
    out.storeBytes(of: st.framesEmitted, toByteOffset: 16, as: Int.self)
    out.storeBytes(of: st.samplesRepaired, toByteOffset: 24, as: Int.self)
    out.storeBytes(of: st.encoderSeconds, toByteOffset: 32, as: Double.self)
    out.storeBytes(of: st.decoderSeconds, toByteOffset: 40, as: Double.self)
    return Status.ok.rawValue
}

// MARK: Model helpers streams need

@_cdecl("mimetic_model_get_template")
public func mimetic_model_get_template(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<Float>?, _ capacity: Int) -> Int32 {
    guard let model else { return fail(.invalidArgument, "mimetic_model_get_template: model is NULL") }
    guard let out else { return fail(.invalidArgument, "mimetic_model_get_template: out is NULL") }
    let m = handle(model).model
    guard let t = m.template else { return fail(.invalidArgument, "mimetic_model_get_template: this model file carries no template mesh") }
    guard capacity >= t.count else {
        return fail(.bufferTooSmall, "mimetic_model_get_template: capacity \(capacity) floats; the template has \(t.count)")
    }
    t.withUnsafeBufferPointer { out.update(from: $0.baseAddress!, count: t.count) }
    return Status.ok.rawValue
}

@_cdecl("mimetic_style_from_motion")
public func mimetic_style_from_motion(_ model: OpaquePointer?, _ offsets: UnsafePointer<Float>?, _ frames: Int,
                                      _ out: UnsafeMutablePointer<Float>?, _ capacity: Int) -> Int32 {
    guard let model else { return fail(.invalidArgument, "mimetic_style_from_motion: model is NULL") }
    guard let offsets else { return fail(.invalidArgument, "mimetic_style_from_motion: offsets is NULL") }
    guard let out else { return fail(.invalidArgument, "mimetic_style_from_motion: code_out is NULL") }
    guard frames > 0 else { return fail(.invalidArgument, "mimetic_style_from_motion: frames is 0") }
    return guarded {
        let m = handle(model).model
        let d = m.config.decoder.d_model
        guard capacity >= d else { throw MimeticError.bufferTooSmall("mimetic_style_from_motion: capacity \(capacity); a style code has \(d) floats") }
        let motion = Matrix(rows: frames, cols: m.outputSize, data: Array(UnsafeBufferPointer(start: offsets, count: frames * m.outputSize)))
        let code = try m.styleCode(fromMotion: motion)
        code.withUnsafeBufferPointer { out.update(from: $0.baseAddress!, count: d) }
        return .ok
    }
}

// MARK: Logging

private var logLock = pthread_mutex_t()
private let logLockReady: Void = { pthread_mutex_init(&logLock, nil) }()
private nonisolated(unsafe) var logCallback: (@convention(c) (Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void)?
private nonisolated(unsafe) var logUser: UnsafeMutableRawPointer?

@_cdecl("mimetic_log_set")
public func mimetic_log_set(_ cb: (@convention(c) (Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void)?,
                            _ user: UnsafeMutableRawPointer?) {
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
    message.withCString { cb(0, $0, user) }
}
