import CMimeticABI
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

// MARK: Params

/// The header's defaults, from the core's `StreamParams`.
private func defaultParams() -> mimetic_stream_params {
    let d = StreamParams()
    var p = mimetic_stream_params()
    p.struct_size = MemoryLayout<mimetic_stream_params>.stride
    p.sample_rate = Int32(d.sampleRate)
    p.lookahead_ms = Int32(d.lookaheadMs)
    p.left_context_ms = Int32(d.leftContextMs)
    p.hop_ms = Int32(d.hopMs)
    p.max_queued_frames = Int32(d.maxQueuedFrames)
    p.style_slot = 0
    p.sample_policy = mimetic_sample_policy(rawValue: UInt32(d.samplePolicy.rawValue))
    return p
}

/// A caller's params, read and checked: the core's params, the initial style's fields and the persona.
private struct CallerParams {
    var stream: StreamParams
    var style: StyleChoice

    init(_ raw: UnsafePointer<mimetic_stream_params>, function: String) throws {
        let p = try VersionedStruct.read(UnsafeRawPointer(raw), defaults: defaultParams(), function: function,
                                         hint: "initialise params with mimetic_stream_params_init")
        stream = StreamParams()
        stream.sampleRate = Int(p.sample_rate)
        stream.lookaheadMs = Int(p.lookahead_ms)
        stream.leftContextMs = Int(p.left_context_ms)
        stream.hopMs = Int(p.hop_ms)
        stream.maxQueuedFrames = Int(p.max_queued_frames)
        guard let policy = StreamParams.SamplePolicy(rawValue: Int32(bitPattern: p.sample_policy.rawValue)) else {
            throw MimeticError.invalidArgument("\(function): params->sample_policy \(p.sample_policy.rawValue) is not a mimetic_sample_policy")
        }
        stream.samplePolicy = policy
        style = try StyleChoice(slot: p.style_slot, weights: p.style_weights, weightsCount: p.style_weights_count,
                                code: p.style_code, codeCount: p.style_code_count, persona: p.persona, function: function)
        stream.reserveBasisDelta = p.reserve_persona_basis != 0 || style.persona?.persona.basisWeightDelta != nil
    }
}

@_cdecl("mimetic_stream_params_init")
public func mimetic_stream_params_init(_ p: UnsafeMutablePointer<mimetic_stream_params>?) {
    p?.pointee = defaultParams()
}

@_cdecl("mimetic_stream_state_size")
public func mimetic_stream_state_size(_ model: OpaquePointer?, _ params: UnsafePointer<mimetic_stream_params>?, _ out: UnsafeMutablePointer<Int>?) -> Int32 {
    guard let model else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_stream_state_size: model is NULL") }
    guard let params else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_stream_state_size: params is NULL") }
    guard let out else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_stream_state_size: out_bytes is NULL") }
    return guarded {
        let p = try CallerParams(params, function: "mimetic_stream_state_size")
        out.pointee = try StreamEngine.stateSize(model: handle(model).model, params: p.stream)
        return MIMETIC_OK
    }
}

@_cdecl("mimetic_stream_create")
public func mimetic_stream_create(_ model: OpaquePointer?, _ params: UnsafePointer<mimetic_stream_params>?, _ buffer: UnsafeMutableRawPointer?,
                                  _ bytes: UInt, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_stream_create: out_stream is NULL") }
    out.pointee = nil
    guard let model else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_stream_create: model is NULL") }
    guard let params else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_stream_create: params is NULL") }
    return guarded {
        let mh = handle(model)
        let m = mh.model
        let p = try CallerParams(params, function: "mimetic_stream_create")
        let style = try p.style.vector(for: m, function: "mimetic_stream_create")
        let engine = try StreamEngine(model: m, params: p.stream, style: style, buffer: buffer, bytes: CallerSize.capacity(bytes))
        if let persona = p.style.persona { try engine.setPersona(persona.persona) }
        out.pointee = OpaquePointer(Unmanaged.passRetained(StreamHandle(engine: engine, model: mh)).toOpaque())
        return MIMETIC_OK
    }
}

@_cdecl("mimetic_stream_get_state_size")
public func mimetic_stream_get_state_size(_ s: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> Int32 {
    guard let s else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_stream_get_state_size: stream is NULL") }
    guard let out else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_stream_get_state_size: out_bytes is NULL") }
    out.pointee = stream(s).engine.byteCount
    return MIMETIC_OK.code
}

@_cdecl("mimetic_stream_get_latency")
public func mimetic_stream_get_latency(_ s: OpaquePointer?, _ out: UnsafeMutablePointer<Double>?) -> Int32 {
    guard let s else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_stream_get_latency: stream is NULL") }
    guard let out else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_stream_get_latency: out_seconds is NULL") }
    out.pointee = stream(s).engine.algorithmicLatency
    return MIMETIC_OK.code
}

@_cdecl("mimetic_stream_free")
public func mimetic_stream_free(_ s: OpaquePointer?) {
    guard let s else { return }
    Unmanaged<StreamHandle>.fromOpaque(UnsafeRawPointer(s)).release()
}

@_cdecl("mimetic_stream_push_audio")
public func mimetic_stream_push_audio(_ s: OpaquePointer?, _ samples: UnsafePointer<Float>?, _ n: UInt) -> Int32 {
    guard let s else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_stream_push_audio: stream is NULL") }
    if n == 0 { return MIMETIC_OK.code }
    guard let samples else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_stream_push_audio: samples is NULL (with n = \(n))") }
    return guarded {
        try stream(s).engine.push(samples, count: CallerSize.count(n, "n", function: "mimetic_stream_push_audio"))
        return MIMETIC_OK
    }
}

@_cdecl("mimetic_stream_push_audio_i16")
public func mimetic_stream_push_audio_i16(_ s: OpaquePointer?, _ samples: UnsafePointer<Int16>?, _ n: UInt) -> Int32 {
    guard let s else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_stream_push_audio_i16: stream is NULL") }
    if n == 0 { return MIMETIC_OK.code }
    guard let samples else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_stream_push_audio_i16: samples is NULL (with n = \(n))") }
    return guarded {
        try stream(s).engine.push(int16: samples, count: CallerSize.count(n, "n", function: "mimetic_stream_push_audio_i16"))
        return MIMETIC_OK
    }
}

@_cdecl("mimetic_stream_frames_ready")
public func mimetic_stream_frames_ready(_ s: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> Int32 {
    guard let s else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_stream_frames_ready: stream is NULL") }
    guard let out else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_stream_frames_ready: out_count is NULL") }
    out.pointee = stream(s).engine.framesReady()
    return MIMETIC_OK.code
}

@_cdecl("mimetic_stream_process_batch")
public func mimetic_stream_process_batch(_ streams: UnsafePointer<OpaquePointer?>?, _ n: UInt) -> Int32 {
    guard n > 0 else { return MIMETIC_OK.code }
    guard let streams else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_stream_process_batch: streams is NULL") }
    guard n <= UInt(Int32.max) else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_stream_process_batch: \(n) streams is not a count") }
    for i in 0..<Int(n) where streams[i] == nil {
        return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_stream_process_batch: streams[\(i)] is NULL")
    }
    return guarded {
        try StreamEngine.processBatch(count: Int(n)) { stream(streams[$0]!).engine }
        return MIMETIC_OK
    }
}

@_cdecl("mimetic_stream_pull_frame")
public func mimetic_stream_pull_frame(_ s: OpaquePointer?, _ offsets: UnsafeMutablePointer<Float>?, _ capacity: UInt,
                                      _ info: UnsafeMutablePointer<mimetic_frame_info>?) -> Int32 {
    guard let s else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_stream_pull_frame: stream is NULL") }
    guard let offsets else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_stream_pull_frame: offsets is NULL") }
    return guarded {
        if let info { _ = try VersionedStruct.size(of: info, mimetic_frame_info.self, oldest: MemoryLayout<mimetic_frame_info>.stride,
                                                   function: "mimetic_stream_pull_frame", hint: "set it to sizeof(mimetic_frame_info)") }
        // No frame yet is a normal answer in a real-time loop: no message, no allocation.
        guard let f = try stream(s).engine.pull(into: offsets, capacity: CallerSize.capacity(capacity)) else { return MIMETIC_ERROR_NOT_READY }
        if let info {
            var v = mimetic_frame_info()
            v.frame_index = Int64(f.frameIndex)
            v.timestamp_s = f.timestampSeconds
            v.timestamp_samples = Int64(f.timestampSamples)
            v.latency_s = f.latencySeconds
            v.is_final = f.isFinal ? 1 : 0
            try VersionedStruct.write(v, to: info, function: "mimetic_stream_pull_frame")
        }
        return MIMETIC_OK
    }
}

@_cdecl("mimetic_stream_flush")
public func mimetic_stream_flush(_ s: OpaquePointer?) -> Int32 {
    guard let s else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_stream_flush: stream is NULL") }
    return guarded { try stream(s).engine.flush(); return MIMETIC_OK }
}

@_cdecl("mimetic_stream_is_complete")
public func mimetic_stream_is_complete(_ s: OpaquePointer?, _ out: UnsafeMutablePointer<Int32>?) -> Int32 {
    guard let s else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_stream_is_complete: stream is NULL") }
    guard let out else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_stream_is_complete: out_complete is NULL") }
    out.pointee = stream(s).engine.isComplete ? 1 : 0
    return MIMETIC_OK.code
}

@_cdecl("mimetic_stream_reset")
public func mimetic_stream_reset(_ s: OpaquePointer?) -> Int32 {
    guard let s else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_stream_reset: stream is NULL") }
    stream(s).engine.reset()
    return MIMETIC_OK.code
}

@_cdecl("mimetic_stream_snapshot")
public func mimetic_stream_snapshot(_ s: OpaquePointer?, _ buffer: UnsafeMutableRawPointer?, _ capacity: UInt) -> Int32 {
    guard let s else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_stream_snapshot: stream is NULL") }
    guard let buffer else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_stream_snapshot: buffer is NULL") }
    return guarded { try stream(s).engine.snapshot(into: buffer, capacity: CallerSize.capacity(capacity)); return MIMETIC_OK }
}

@_cdecl("mimetic_stream_restore")
public func mimetic_stream_restore(_ s: OpaquePointer?, _ buffer: UnsafeRawPointer?, _ size: UInt) -> Int32 {
    guard let s else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_stream_restore: stream is NULL") }
    guard let buffer else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_stream_restore: buffer is NULL") }
    return guarded { try stream(s).engine.restore(from: buffer, size: CallerSize.count(size, "size", function: "mimetic_stream_restore")); return MIMETIC_OK }
}

@_cdecl("mimetic_stream_set_style_slot")
public func mimetic_stream_set_style_slot(_ s: OpaquePointer?, _ slot: Int32) -> Int32 {
    guard let s else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_stream_set_style_slot: stream is NULL") }
    return guarded { try stream(s).engine.setStyleSlot(Int(slot)); return MIMETIC_OK }
}

@_cdecl("mimetic_stream_set_style_weights")
public func mimetic_stream_set_style_weights(_ s: OpaquePointer?, _ w: UnsafePointer<Float>?, _ n: UInt) -> Int32 {
    guard let s else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_stream_set_style_weights: stream is NULL") }
    guard let w else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_stream_set_style_weights: weights is NULL") }
    return guarded { try stream(s).engine.setStyleWeights(w, count: CallerSize.count(n, "n", function: "mimetic_stream_set_style_weights")); return MIMETIC_OK }
}

@_cdecl("mimetic_stream_set_style_code")
public func mimetic_stream_set_style_code(_ s: OpaquePointer?, _ code: UnsafePointer<Float>?, _ n: UInt) -> Int32 {
    guard let s else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_stream_set_style_code: stream is NULL") }
    guard let code else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_stream_set_style_code: code is NULL") }
    return guarded { try stream(s).engine.setStyle(code, count: CallerSize.count(n, "n", function: "mimetic_stream_set_style_code")); return MIMETIC_OK }
}

@_cdecl("mimetic_stream_get_stats")
public func mimetic_stream_get_stats(_ s: OpaquePointer?, _ out: UnsafeMutablePointer<mimetic_stream_stats>?) -> Int32 {
    guard let s else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_stream_get_stats: stream is NULL") }
    guard let out else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_stream_get_stats: stats is NULL") }
    return guarded {
        let st = stream(s).engine.stats
        var v = mimetic_stream_stats()
        v.samples_pushed = Int64(st.samplesPushed)
        v.frames_emitted = Int64(st.framesEmitted)
        v.samples_repaired = Int64(st.samplesRepaired)
        v.encoder_seconds = st.encoderSeconds
        v.decoder_seconds = st.decoderSeconds
        try VersionedStruct.write(v, to: out, function: "mimetic_stream_get_stats", hint: "set it to sizeof(mimetic_stream_stats)")
        return MIMETIC_OK
    }
}
