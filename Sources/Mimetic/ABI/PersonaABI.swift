import CMimeticABI
import MimeticCore

/// The object behind a `mimetic_persona *`.
final class PersonaHandle {
    let persona: Persona
    let family: ModelConfig.Family
    init(_ persona: Persona, family: ModelConfig.Family) {
        self.persona = persona
        self.family = family
    }
}

func personaHandle(_ p: OpaquePointer) -> PersonaHandle { Unmanaged<PersonaHandle>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue() }

private func publish(_ h: PersonaHandle, _ out: UnsafeMutablePointer<OpaquePointer?>) {
    out.pointee = OpaquePointer(Unmanaged.passRetained(h).toOpaque())
}

/// The header's defaults, from the core's `AdaptationOptions`.
private func defaultPersonalizeParams() -> mimetic_personalize_params {
    let o = AdaptationOptions()
    var p = mimetic_personalize_params()
    p.struct_size = MemoryLayout<mimetic_personalize_params>.stride
    p.style_steps = Int32(o.styleSteps)
    p.basis_steps = Int32(o.basisSteps)
    p.style_learning_rate = o.styleLearningRate
    p.basis_learning_rate = o.basisLearningRate
    p.velocity_weight = o.velocityWeight
    p.lip_contact_weight = o.lipContactWeight
    p.held_out_clip = -1
    switch o.start {
    case .slot0: p.initial_style_slot = 0
    case .mean: p.initial_style_slot = Int32(MIMETIC_START_MEAN)
    case .best: p.initial_style_slot = Int32(MIMETIC_START_BEST)
    }
    p.lip_closure_weight = o.lipClosureWeight
    p.held_out_folds = Int64(o.folds)
    return p
}

/// Callers built against the header before `lip_closure_weight` pass 40 bytes: they get its default.
private let oldestPersonalizeParams = MemoryLayout<mimetic_personalize_params>.offset(of: \.lip_closure_weight)!

@_cdecl("mimetic_personalize_params_init")
public func mimetic_personalize_params_init(_ p: UnsafeMutablePointer<mimetic_personalize_params>?) {
    p?.pointee = defaultPersonalizeParams()
}

@_cdecl("mimetic_personalize")
public func mimetic_personalize(_ model: OpaquePointer?, _ clips: UnsafePointer<mimetic_reference_clip>?, _ clipCount: UInt, _ params: UnsafePointer<mimetic_personalize_params>?,
                                _ progress: mimetic_progress_callback?,
                                _ user: UnsafeMutableRawPointer?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_personalize: out_persona is NULL") }
    out.pointee = nil
    guard let model else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_personalize: model is NULL") }
    guard let clips, clipCount > 0 else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_personalize: no reference clips") }
    return guarded {
        let n = try CallerSize.count(clipCount, "n_clips", function: "mimetic_personalize")
        let m = handle(model).model
        var options = AdaptationOptions()
        if let params {
            let p = try VersionedStruct.read(UnsafeRawPointer(params), defaults: defaultPersonalizeParams(), oldest: oldestPersonalizeParams,
                                             function: "mimetic_personalize", hint: "initialise params with mimetic_personalize_params_init")
            options.styleSteps = Int(p.style_steps)
            options.basisSteps = Int(p.basis_steps)
            options.styleLearningRate = p.style_learning_rate
            options.basisLearningRate = p.basis_learning_rate
            options.velocityWeight = p.velocity_weight
            options.lipContactWeight = p.lip_contact_weight
            options.lipClosureWeight = p.lip_closure_weight
            // Checked here too, in the field's own name and before it is narrowed to an Int.
            guard p.held_out_folds >= AdaptationOptions.foldRange.lowerBound, p.held_out_folds <= AdaptationOptions.foldRange.upperBound else {
                throw MimeticError.invalidArgument("mimetic_personalize: held_out_folds \(p.held_out_folds) is outside \(AdaptationOptions.foldRange)")
            }
            options.folds = Int(p.held_out_folds)
            let held = Int(p.held_out_clip)
            options.heldOutClip = held >= 0 ? held : nil
            switch Int(p.initial_style_slot) {
            case Int(MIMETIC_START_MEAN): options.start = .mean
            case Int(MIMETIC_START_BEST): options.start = .best
            case let slot where m.family == .imitator: options.initialStyle = try m.styleVector(.slot(slot))
            default: break
            }
            guard options.styleSteps >= 0, options.basisSteps >= 0, options.styleSteps + options.basisSteps <= 1_000_000,
                  [options.styleLearningRate, options.basisLearningRate, options.velocityWeight, options.lipContactWeight,
                   options.lipClosureWeight].allSatisfy({ $0.isFinite && $0 >= 0 }) else {
                throw MimeticError.invalidArgument("mimetic_personalize: steps must be >= 0 and rates/weights finite and >= 0")
            }
            guard held < n else { throw MimeticError.invalidArgument("mimetic_personalize: held_out_clip \(held) but only \(n) clips") }
        }
        var refs: [ReferenceClip] = []
        for i in 0..<n {
            let c = clips[i]
            let (audio, samples, rate) = (c.audio, c.audio_samples, Int(c.sample_rate))
            guard let offsets = c.offsets else {
                throw MimeticError.invalidArgument("mimetic_personalize: clip \(i) has no offsets")
            }
            let frames = c.frames
            guard frames > 0, frames < 10_000_000 else { throw MimeticError.invalidArgument("mimetic_personalize: clip \(i) has \(frames) frames") }
            let nEvents = try CallerSize.count(UInt(bitPattern: c.bilabial_count), "bilabial_count", function: "mimetic_personalize")
            let events = c.bilabial_frames
            guard samples >= 0, samples <= CallerSize.maxCount else {
                throw MimeticError.invalidArgument("mimetic_personalize: clip \(i) audio_samples \(UInt(bitPattern: samples)) is larger than any clip can be")
            }
            var pcm: [Float] = []
            if m.family == .imitator {
                guard let audio, samples > 0 else { throw MimeticError.invalidArgument("mimetic_personalize: clip \(i) has no audio (Imitator adapts on audio and motion)") }
                guard StreamLimits.sampleRates.contains(rate) else {
                    throw MimeticError.invalidArgument("mimetic_personalize: clip \(i) sample rate \(rate) is outside 8000...48000")
                }
                let raw = Array(UnsafeBufferPointer(start: audio, count: samples))
                guard raw.allSatisfy({ $0.isFinite }) else { throw MimeticError.invalidAudio("mimetic_personalize: clip \(i) audio contains NaN or Inf") }
                pcm = rate == m.config.sample_rate ? raw : resample(raw, from: rate, to: m.config.sample_rate)
            }
            let motion = Matrix(rows: frames, cols: m.outputSize, data: Array(UnsafeBufferPointer(start: offsets, count: frames * m.outputSize)))
            let ev = events.map { Array(UnsafeBufferPointer(start: $0, count: nEvents)).map(Int.init) } ?? []
            refs.append(ReferenceClip(audio: pcm, offsets: motion, bilabialFrames: ev))
        }
        let persona: Persona
        switch m.family {
        case .imitator:
            persona = try ImitatorAdaptation.adapt(model: m, clips: refs, options: options) { p in
                guard let progress else { return true }
                return progress(Int32(p.stage), Int32(p.step), Int32(p.totalSteps), p.trainingLoss, p.heldOutLoss ?? .nan, user) != 0
            }
        case .mimic:
            var all: [Float] = []
            for r in refs { all += r.offsets.data }
            persona = try m.persona(style: .motion(Matrix(rows: all.count / m.outputSize, cols: m.outputSize, data: all)),
                                    provenance: ["method": "mimic-style-encoder"])
        case .faceformer:
            throw MimeticError.invalidArgument("mimetic_personalize: FaceFormer styles are slot blends: use mimetic_persona_from_style")
        }
        publish(PersonaHandle(persona, family: m.family), out)
        return MIMETIC_OK
    }
}

@_cdecl("mimetic_persona_from_style")
public func mimetic_persona_from_style(_ model: OpaquePointer?, _ style: UnsafePointer<Float>?, _ count: UInt,
                                       _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_persona_from_style: out_persona is NULL") }
    out.pointee = nil
    guard let model else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_persona_from_style: model is NULL") }
    guard let style else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_persona_from_style: style is NULL") }
    return guarded {
        let m = handle(model).model
        let n = try CallerSize.count(count, "n", function: "mimetic_persona_from_style")
        let p = try m.persona(style: .code(Array(UnsafeBufferPointer(start: style, count: n))), provenance: ["method": "style"])
        publish(PersonaHandle(p, family: m.family), out)
        return MIMETIC_OK
    }
}

@_cdecl("mimetic_persona_load")
public func mimetic_persona_load(_ model: OpaquePointer?, _ path: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_persona_load: out_persona is NULL") }
    out.pointee = nil
    guard let model else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_persona_load: model is NULL") }
    guard let path else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_persona_load: path is NULL") }
    return guarded {
        let m = handle(model).model
        publish(PersonaHandle(try Persona.load(path: String(cString: path), for: m), family: m.family), out)
        return MIMETIC_OK
    }
}

@_cdecl("mimetic_persona_save")
public func mimetic_persona_save(_ p: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> Int32 {
    guard let p else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_persona_save: persona is NULL") }
    guard let path else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_persona_save: path is NULL") }
    return guarded {
        let h = personaHandle(p)
        try h.persona.write(path: String(cString: path), family: h.family)
        return MIMETIC_OK
    }
}

@_cdecl("mimetic_persona_free")
public func mimetic_persona_free(_ p: OpaquePointer?) {
    guard let p else { return }
    Unmanaged<PersonaHandle>.fromOpaque(UnsafeRawPointer(p)).release()
}

@_cdecl("mimetic_persona_get_style")
public func mimetic_persona_get_style(_ p: OpaquePointer?, _ out: UnsafeMutablePointer<Float>?, _ capacity: UInt) -> Int32 {
    guard let p else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_persona_get_style: persona is NULL") }
    guard let out else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_persona_get_style: out is NULL") }
    let s = personaHandle(p).persona.style
    guard CallerSize.capacity(capacity) >= s.count else { return fail(MIMETIC_ERROR_BUFFER_TOO_SMALL, "mimetic_persona_get_style: capacity \(capacity); the style has \(s.count) floats") }
    s.withUnsafeBufferPointer { out.update(from: $0.baseAddress!, count: s.count) }
    return MIMETIC_OK.code
}

@_cdecl("mimetic_persona_has_basis")
public func mimetic_persona_has_basis(_ p: OpaquePointer?) -> Int32 {
    guard let p else { return 0 }
    return personaHandle(p).persona.basisWeightDelta == nil ? 0 : 1
}

@_cdecl("mimetic_stream_set_persona")
public func mimetic_stream_set_persona(_ s: OpaquePointer?, _ p: OpaquePointer?) -> Int32 {
    guard let s else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_stream_set_persona: stream is NULL") }
    guard let p else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_stream_set_persona: persona is NULL") }
    return guarded {
        try Unmanaged<StreamHandle>.fromOpaque(UnsafeRawPointer(s)).takeUnretainedValue().engine.setPersona(personaHandle(p).persona)
        return MIMETIC_OK
    }
}

@_cdecl("mimetic_persona_blend")
public func mimetic_persona_blend(_ a: OpaquePointer?, _ b: OpaquePointer?, _ t: Float, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_persona_blend: out_persona is NULL") }
    out.pointee = nil
    guard let a, let b else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_persona_blend: persona is NULL") }
    return guarded {
        let ha = personaHandle(a)
        publish(PersonaHandle(try Persona.blend(ha.persona, personaHandle(b).persona, t: t), family: ha.family), out)
        return MIMETIC_OK
    }
}

@_cdecl("mimetic_closure_events")
public func mimetic_closure_events(_ model: OpaquePointer?, _ offsets: UnsafePointer<Float>?, _ frames: UInt, _ phones: UnsafePointer<Double>?,
                                   _ nPhones: UInt, _ events: UnsafeMutablePointer<Int32>?, _ capacity: UInt,
                                   _ outCount: UnsafeMutablePointer<Int>?) -> Int32 {
    let function: StaticString = "mimetic_closure_events"
    guard let model else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "\(function): model is NULL") }
    guard let offsets else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "\(function): offsets is NULL") }
    guard let outCount else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "\(function): out_count is NULL") }
    return guarded {
        let m = handle(model).model
        let t = try CallerSize.count(frames, "frames", function: function)
        let np = try CallerSize.count(nPhones, "n_phones", function: function)
        guard t > 0 else { throw MimeticError.invalidArgument("\(function): frames is 0") }
        guard np == 0 || phones != nil else { throw MimeticError.invalidArgument("\(function): phones is NULL with n_phones = \(np)") }
        let motion = Matrix(rows: t, cols: m.outputSize, data: Array(UnsafeBufferPointer(start: offsets, count: t * m.outputSize)))
        if let i = motion.data.firstIndex(where: { !$0.isFinite }) {
            throw MimeticError.invalidArgument("\(function): offsets[\(i)] is \(motion.data[i]) (NaN or Inf)")
        }
        let found: [Int]
        if let phones {
            let spans = (0..<np).map { MimeticModel.PhoneInterval(start: phones[2 * $0], end: phones[2 * $0 + 1]) }
            found = try m.closureEvents(motion, phones: spans)
        } else {
            found = m.closureEvents(motion)
        }
        outCount.pointee = found.count
        guard CallerSize.capacity(capacity) >= found.count else {
            throw MimeticError.bufferTooSmall("\(function): events holds \(capacity); there are \(found.count) events")
        }
        if !found.isEmpty {
            guard let events else { throw MimeticError.invalidArgument("\(function): events is NULL") }
            for (i, e) in found.enumerated() { events[i] = Int32(e) }
        }
        return MIMETIC_OK
    }
}
