import CMimeticABI
import MimeticCore

/// The object behind a `mimetic_retarget *`: a shared `Retarget` (the basis and its normal matrix)
/// with one character's controls, fit state and a frame buffer for `mimetic_stream_pull_weights`.
final class RetargetHandle {
    let retarget: Retarget
    var controls: RetargetControls
    var state: RetargetState
    let frame: UnsafeMutablePointer<Float>
    let cNames: [UnsafeMutablePointer<CChar>]

    init(_ retarget: Retarget, controls: RetargetControls) {
        self.retarget = retarget
        self.controls = controls
        state = retarget.makeState()
        frame = .allocate(capacity: retarget.outputSize)
        frame.initialize(repeating: 0, count: retarget.outputSize)
        cNames = retarget.names.map { strdup($0)! }
    }

    deinit {
        frame.deallocate()
        cNames.forEach { free($0) }
    }
}

func retargetHandle(_ p: OpaquePointer) -> RetargetHandle { Unmanaged<RetargetHandle>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue() }
private func publish(_ h: RetargetHandle, _ out: UnsafeMutablePointer<OpaquePointer?>) {
    out.pointee = OpaquePointer(Unmanaged.passRetained(h).toOpaque())
}

private func defaultRetargetParams() -> mimetic_retarget_params {
    var p = mimetic_retarget_params()
    p.struct_size = MemoryLayout<mimetic_retarget_params>.stride
    p.strength = 1
    p.smoothing_ms = 0
    p.ridge = 1e-4
    p.closure_boost = 0
    return p
}

/// The caller's params (or the defaults), checked: the ridge here, the controls by `controls(for:)`.
private struct RetargetParams {
    let raw: mimetic_retarget_params
    var ridge: Float { raw.ridge }

    init(_ p: UnsafePointer<mimetic_retarget_params>?, function: String) throws {
        raw = try p.map { try VersionedStruct.read(UnsafeRawPointer($0), defaults: defaultRetargetParams(), function: function,
                                                    hint: "initialise params with mimetic_retarget_params_init") } ?? defaultRetargetParams()
        guard raw.ridge.isFinite, (0...1).contains(raw.ridge) else {
            throw MimeticError.invalidArgument("\(function): params->ridge \(raw.ridge) is outside 0...1")
        }
    }

    /// The controls these params ask for, made ready for `retarget` at `model`'s frame rate.
    func controls(for retarget: Retarget, model: MimeticModel) throws -> RetargetControls {
        var c = RetargetControls(count: retarget.count)
        c.strength = raw.strength
        c.smoothingMs = raw.smoothing_ms
        c.closureBoost = raw.closure_boost
        c.fps = Float(model.config.fps)
        return try retarget.prepared(c)
    }
}

@_cdecl("mimetic_retarget_params_init")
public func mimetic_retarget_params_init(_ p: UnsafeMutablePointer<mimetic_retarget_params>?) {
    p?.pointee = defaultRetargetParams()
}

@_cdecl("mimetic_retarget_load")
public func mimetic_retarget_load(_ model: OpaquePointer?, _ path: UnsafePointer<CChar>?, _ params: UnsafePointer<mimetic_retarget_params>?,
                                  _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    let function = "mimetic_retarget_load"
    guard let out else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "\(function): out_retarget is NULL") }
    out.pointee = nil
    guard let model else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "\(function): model is NULL") }
    guard let path else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "\(function): path is NULL") }
    return guarded {
        let m = handle(model).model
        let p = try RetargetParams(params, function: function)
        let r = try Retarget(path: String(cString: path), outputSize: m.outputSize, relativeRidge: p.ridge)
        publish(RetargetHandle(r, controls: try p.controls(for: r, model: m)), out)
        return MIMETIC_OK
    }
}

@_cdecl("mimetic_retarget_create")
public func mimetic_retarget_create(_ model: OpaquePointer?, _ basis: UnsafePointer<Float>?, _ k: UInt,
                                    _ names: UnsafePointer<UnsafePointer<CChar>?>?, _ lower: UnsafePointer<Float>?,
                                    _ upper: UnsafePointer<Float>?, _ params: UnsafePointer<mimetic_retarget_params>?,
                                    _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    let function = "mimetic_retarget_create"
    guard let out else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "\(function): out_retarget is NULL") }
    out.pointee = nil
    guard let model else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "\(function): model is NULL") }
    guard let basis else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "\(function): basis is NULL") }
    guard let names else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "\(function): names is NULL") }
    return guarded {
        let m = handle(model).model
        let count = try CallerSize.count(k, "k", function: "mimetic_retarget_create")
        guard count >= 1, count <= 1024 else { throw MimeticError.invalidArgument("\(function): k = \(count); a basis has 1...1024 shapes") }
        var list: [String] = []
        for i in 0..<count {
            guard let n = names[i] else { throw MimeticError.invalidArgument("\(function): names[\(i)] is NULL") }
            list.append(String(cString: n))
        }
        let p = try RetargetParams(params, function: function)
        let r = try Retarget(basis: Array(UnsafeBufferPointer(start: basis, count: count * m.outputSize)), names: list,
                             outputSize: m.outputSize, lower: lower.map { Array(UnsafeBufferPointer(start: $0, count: count)) },
                             upper: upper.map { Array(UnsafeBufferPointer(start: $0, count: count)) }, relativeRidge: p.ridge)
        publish(RetargetHandle(r, controls: try p.controls(for: r, model: m)), out)
        return MIMETIC_OK
    }
}

@_cdecl("mimetic_retarget_clone")
public func mimetic_retarget_clone(_ r: OpaquePointer?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_retarget_clone: out_retarget is NULL") }
    out.pointee = nil
    guard let r else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_retarget_clone: retarget is NULL") }
    let h = retargetHandle(r)
    publish(RetargetHandle(h.retarget, controls: h.controls), out)
    return MIMETIC_OK.code
}

@_cdecl("mimetic_retarget_free")
public func mimetic_retarget_free(_ r: OpaquePointer?) {
    guard let r else { return }
    Unmanaged<RetargetHandle>.fromOpaque(UnsafeRawPointer(r)).release()
}

@_cdecl("mimetic_retarget_count")
public func mimetic_retarget_count(_ r: OpaquePointer?) -> Int32 {
    guard let r else { LastError.set("mimetic_retarget_count: retarget is NULL"); return -1 }
    return Int32(retargetHandle(r).retarget.count)
}

@_cdecl("mimetic_retarget_name")
public func mimetic_retarget_name(_ r: OpaquePointer?, _ index: Int32) -> UnsafePointer<CChar>? {
    guard let r else { LastError.set("mimetic_retarget_name: retarget is NULL"); return nil }
    let h = retargetHandle(r)
    guard index >= 0, Int(index) < h.cNames.count else {
        LastError.set("mimetic_retarget_name: index \(index) is out of range (the basis has \(h.cNames.count) shapes)")
        return nil
    }
    return UnsafePointer(h.cNames[Int(index)])
}

@_cdecl("mimetic_retarget_set_channel")
public func mimetic_retarget_set_channel(_ r: OpaquePointer?, _ index: Int32, _ gain: Float, _ offset: Float, _ lo: Float, _ hi: Float) -> Int32 {
    guard let r else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_retarget_set_channel: retarget is NULL") }
    return guarded {
        let h = retargetHandle(r)
        guard index >= 0, Int(index) < h.retarget.count else {
            throw MimeticError.invalidArgument("mimetic_retarget_set_channel: index \(index) is out of range (the basis has \(h.retarget.count) shapes)")
        }
        var c = h.controls
        let i = Int(index)
        c.gain[i] = gain; c.offset[i] = offset; c.minimum[i] = lo; c.maximum[i] = hi
        h.controls = try RetargetControls.checked(c, count: h.retarget.count, function: "mimetic_retarget_set_channel")
        return MIMETIC_OK
    }
}

/// Fits `offsets` with the handle's state and controls; false (nothing written) if they hold NaN or Inf.
private func fit(_ h: RetargetHandle, _ offsets: UnsafePointer<Float>, _ weights: UnsafeMutablePointer<Float>,
                 _ residual: UnsafeMutablePointer<Float>?) -> Bool {
    let e = h.retarget.solve(offsets: offsets, into: weights, state: &h.state, controls: h.controls)
    guard !e.isNaN else { return false }
    residual?.pointee = e
    return true
}

@_cdecl("mimetic_retarget_apply")
public func mimetic_retarget_apply(_ r: OpaquePointer?, _ offsets: UnsafePointer<Float>?, _ n: UInt, _ weights: UnsafeMutablePointer<Float>?,
                                   _ capacity: UInt, _ residual: UnsafeMutablePointer<Float>?) -> Int32 {
    let function = "mimetic_retarget_apply"
    guard let r else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "\(function): retarget is NULL") }
    guard let offsets else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "\(function): offsets is NULL") }
    guard let weights else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "\(function): weights is NULL") }
    let h = retargetHandle(r)
    let size = h.retarget.outputSize, k = h.retarget.count
    guard n == UInt(size) else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "\(function): n is \(n); a frame of this model has \(size) floats") }
    guard capacity >= UInt(k) else { return fail(MIMETIC_ERROR_BUFFER_TOO_SMALL, "\(function): weights holds \(capacity) floats; the basis has \(k) shapes") }
    // A frame with NaN or Inf is refused by the solve itself (NaN back, weights and state untouched).
    guard fit(h, offsets, weights, residual) else {
        let i = (0..<size).first { !offsets[$0].isFinite } ?? 0
        return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "\(function): offsets[\(i)] is \(offsets[i]) (NaN or Inf)")
    }
    return MIMETIC_OK.code
}

@_cdecl("mimetic_stream_pull_weights")
public func mimetic_stream_pull_weights(_ s: OpaquePointer?, _ r: OpaquePointer?, _ weights: UnsafeMutablePointer<Float>?, _ capacity: UInt,
                                        _ info: UnsafeMutablePointer<mimetic_frame_info>?, _ residual: UnsafeMutablePointer<Float>?) -> Int32 {
    let function = "mimetic_stream_pull_weights"
    guard let s else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "\(function): stream is NULL") }
    guard let r else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "\(function): retarget is NULL") }
    guard let weights else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "\(function): weights is NULL") }
    let h = retargetHandle(r)
    guard capacity >= UInt(h.retarget.count) else {
        return fail(MIMETIC_ERROR_BUFFER_TOO_SMALL, "\(function): weights holds \(capacity) floats; the basis has \(h.retarget.count) shapes")
    }
    let status = mimetic_stream_pull_frame(s, h.frame, UInt(h.retarget.outputSize), info)
    guard status == MIMETIC_OK.code else { return status }
    // A stream's frames are checked finite as they are made (StreamEngine), so this fit cannot refuse.
    guard fit(h, h.frame, weights, residual) else { return fail(MIMETIC_ERROR_INTERNAL, "\(function): the stream produced a non-finite frame") }
    return MIMETIC_OK.code
}

@_cdecl("mimetic_retarget_reset")
public func mimetic_retarget_reset(_ r: OpaquePointer?) -> Int32 {
    guard let r else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_retarget_reset: retarget is NULL") }
    retargetHandle(r).state.reset()
    return MIMETIC_OK.code
}

@_cdecl("mimetic_retarget_offsets")
public func mimetic_retarget_offsets(_ r: OpaquePointer?, _ weights: UnsafePointer<Float>?, _ n: UInt, _ out: UnsafeMutablePointer<Float>?,
                                     _ capacity: UInt) -> Int32 {
    let function = "mimetic_retarget_offsets"
    guard let r else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "\(function): retarget is NULL") }
    guard let weights else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "\(function): weights is NULL") }
    guard let out else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "\(function): out is NULL") }
    let h = retargetHandle(r)
    guard n == UInt(h.retarget.count) else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "\(function): n is \(n); the basis has \(h.retarget.count) shapes") }
    guard capacity >= UInt(h.retarget.outputSize) else {
        return fail(MIMETIC_ERROR_BUFFER_TOO_SMALL, "\(function): out holds \(capacity) floats; a frame has \(h.retarget.outputSize)")
    }
    for i in 0..<h.retarget.count where !weights[i].isFinite {
        return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "\(function): weights[\(i)] is \(weights[i]) (NaN or Inf)")
    }
    h.retarget.offsets(weights: weights, into: out)
    return MIMETIC_OK.code
}

@_cdecl("mimetic_reference_from_take")
public func mimetic_reference_from_take(_ model: OpaquePointer?, _ basis: OpaquePointer?, _ path: UnsafePointer<CChar>?,
                                        _ audio: UnsafePointer<Float>?, _ n: UInt, _ rate: Int32, _ offset: UnsafePointer<Double>?,
                                        _ out: UnsafeMutablePointer<Float>?, _ capacity: UInt, _ outFrames: UnsafeMutablePointer<Int>?,
                                        _ outOffset: UnsafeMutablePointer<Double>?) -> Int32 {
    let function = "mimetic_reference_from_take"
    guard let model else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "\(function): model is NULL") }
    guard let basis else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "\(function): basis is NULL") }
    guard let path else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "\(function): take_path is NULL") }
    guard let audio else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "\(function): audio is NULL") }
    return guarded {
        let m = handle(model).model
        let count = try CallerSize.count(n, "n_samples", function: "mimetic_reference_from_take")
        if let offset, !offset.pointee.isFinite {
            throw MimeticError.invalidArgument("\(function): *offset_s is \(offset.pointee)")
        }
        let frames = try m.frameCount(samples: count, sampleRate: Int(rate))
        let needed = frames * m.outputSize
        guard let out, CallerSize.capacity(capacity) >= needed else {
            outFrames?.pointee = frames
            throw MimeticError.bufferTooSmall("\(function): offsets holds \(capacity) floats; \(frames) frames of \(m.outputSize) need \(needed)")
        }
        let take = try LiveLinkTake(path: String(cString: path))
        let (clip, used) = try m.referenceClip(take: take, audio: Array(UnsafeBufferPointer(start: audio, count: count)), sampleRate: Int(rate),
                                               basis: retargetHandle(basis).retarget, offset: offset?.pointee)
        guard clip.offsets.rows == frames else {
            throw InternalFailure("\(function): the take gave \(clip.offsets.rows) frames; the audio makes \(frames)")
        }
        clip.offsets.data.withUnsafeBufferPointer { out.update(from: $0.baseAddress!, count: needed) }
        outFrames?.pointee = frames
        outOffset?.pointee = used
        return MIMETIC_OK
    }
}
