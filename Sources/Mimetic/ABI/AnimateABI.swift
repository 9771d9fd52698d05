import CMimeticABI
import MimeticCore

/// Whole utterances: `mimetic_animate` and its frame count. The same core path as `mimetic animate`
/// (`MimeticModel.speech`, then `animate(audio:style:)` or `animate(audio:persona:)`).

private func defaultAnimateParams() -> mimetic_animate_params {
    var p = mimetic_animate_params()
    p.struct_size = MemoryLayout<mimetic_animate_params>.stride
    p.sample_rate = 16000
    p.style_slot = 0
    return p
}

@_cdecl("mimetic_animate_params_init")
public func mimetic_animate_params_init(_ p: UnsafeMutablePointer<mimetic_animate_params>?) {
    p?.pointee = defaultAnimateParams()
}

@_cdecl("mimetic_animate_frame_count")
public func mimetic_animate_frame_count(_ model: OpaquePointer?, _ n: UInt, _ sampleRate: Int32, _ out: UnsafeMutablePointer<Int>?) -> Int32 {
    guard let model else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_animate_frame_count: model is NULL") }
    guard let out else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_animate_frame_count: out_frames is NULL") }
    return guarded {
        let count = try CallerSize.count(n, "n_samples", function: "mimetic_animate_frame_count")
        out.pointee = try handle(model).model.frameCount(samples: count, sampleRate: Int(sampleRate))
        return MIMETIC_OK
    }
}

@_cdecl("mimetic_animate")
public func mimetic_animate(_ model: OpaquePointer?, _ samples: UnsafePointer<Float>?, _ n: UInt,
                            _ params: UnsafePointer<mimetic_animate_params>?, _ out: UnsafeMutablePointer<Float>?,
                            _ capacity: UInt, _ outFrames: UnsafeMutablePointer<Int>?) -> Int32 {
    let function = "mimetic_animate"
    guard let model else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "\(function): model is NULL") }
    guard let samples else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "\(function): samples is NULL") }
    guard let params else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "\(function): params is NULL") }
    guard let out else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "\(function): out is NULL") }
    return guarded {
        let m = handle(model).model
        let p = try VersionedStruct.read(UnsafeRawPointer(params), defaults: defaultAnimateParams(), function: function,
                                         hint: "initialise params with mimetic_animate_params_init")
        let count = try CallerSize.count(n, "n_samples", function: "mimetic_animate")
        let style = try StyleChoice(slot: p.style_slot, weights: p.style_weights, weightsCount: p.style_weights_count,
                                    code: p.style_code, codeCount: p.style_code_count, persona: p.persona, function: function)
        let rate = Int(p.sample_rate)
        // The capacity check comes first: a caller sizing its buffer must not pay for an animation.
        let frames = try m.frameCount(samples: count, sampleRate: rate)
        let needed = frames * m.outputSize
        guard CallerSize.capacity(capacity) >= needed else {
            outFrames?.pointee = frames
            throw MimeticError.bufferTooSmall("\(function): out holds \(capacity) floats; \(frames) frames of \(m.outputSize) need \(needed) (mimetic_animate_frame_count)")
        }
        let speech = try m.speech(Array(UnsafeBufferPointer(start: samples, count: count)), sampleRate: rate, name: function)
        let animation: Animation
        if let persona = style.persona {
            animation = try m.animate(audio: speech, persona: persona.persona)
        } else {
            animation = try m.animate(audio: speech, style: .code(try style.vector(for: m, function: function)))
        }
        guard animation.offsets.data.count == needed else {
            throw InternalFailure("\(function): the animation has \(animation.frames) frames; mimetic_animate_frame_count said \(frames)")
        }
        animation.offsets.data.withUnsafeBufferPointer { out.update(from: $0.baseAddress!, count: needed) }
        outFrames?.pointee = frames
        return MIMETIC_OK
    }
}
