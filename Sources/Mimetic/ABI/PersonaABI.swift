import Foundation
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

enum PersonalizeParamsC {
    static let size = 48
    /// Callers built against the header before `lip_closure_weight` pass 40: they get its default.
    static let sizeWithoutClosure = 40
    static let styleSteps = 8, basisSteps = 12, styleLR = 16, basisLR = 20, velocity = 24, lipContact = 28, heldOut = 32, initialSlot = 36
    static let lipClosure = 40
}

@_cdecl("mimetic_personalize_params_init")
public func mimetic_personalize_params_init(_ p: UnsafeMutableRawPointer?) {
    guard let p else { return }
    let o = AdaptationOptions()
    p.initializeMemory(as: UInt8.self, repeating: 0, count: PersonalizeParamsC.size)
    p.storeBytes(of: PersonalizeParamsC.size, as: Int.self)
    p.storeBytes(of: Int32(o.styleSteps), toByteOffset: PersonalizeParamsC.styleSteps, as: Int32.self)
    p.storeBytes(of: Int32(o.basisSteps), toByteOffset: PersonalizeParamsC.basisSteps, as: Int32.self)
    p.storeBytes(of: o.styleLearningRate, toByteOffset: PersonalizeParamsC.styleLR, as: Float.self)
    p.storeBytes(of: o.basisLearningRate, toByteOffset: PersonalizeParamsC.basisLR, as: Float.self)
    p.storeBytes(of: o.velocityWeight, toByteOffset: PersonalizeParamsC.velocity, as: Float.self)
    p.storeBytes(of: o.lipContactWeight, toByteOffset: PersonalizeParamsC.lipContact, as: Float.self)
    p.storeBytes(of: Int32(-1), toByteOffset: PersonalizeParamsC.heldOut, as: Int32.self)
    p.storeBytes(of: Int32(0), toByteOffset: PersonalizeParamsC.initialSlot, as: Int32.self)
    p.storeBytes(of: o.lipClosureWeight, toByteOffset: PersonalizeParamsC.lipClosure, as: Float.self)
}

/// mimetic_reference_clip, LP64: audio 0, audio_samples 8, sample_rate 16, offsets 24, frames 32,
/// bilabial_frames 40, bilabial_count 48; size 56.
private let clipSize = 56

@_cdecl("mimetic_personalize")
public func mimetic_personalize(_ model: OpaquePointer?, _ clips: UnsafeRawPointer?, _ n: Int, _ params: UnsafeRawPointer?,
                                _ progress: (@convention(c) (Int32, Int32, Int32, Double, Double, UnsafeMutableRawPointer?) -> Int32)?,
                                _ user: UnsafeMutableRawPointer?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return fail(.invalidArgument, "mimetic_personalize: out_persona is NULL") }
    out.pointee = nil
    guard let model else { return fail(.invalidArgument, "mimetic_personalize: model is NULL") }
    guard let clips, n > 0 else { return fail(.invalidArgument, "mimetic_personalize: no reference clips") }
    return guarded {
        let m = handle(model).model
        var options = AdaptationOptions()
        if let params {
            let size = params.load(as: Int.self)
            guard size >= PersonalizeParamsC.sizeWithoutClosure, size <= PersonalizeParamsC.size + 4096 else {
                throw MimeticError.invalidArgument("mimetic_personalize: params->struct_size is \(size); initialise params with mimetic_personalize_params_init")
            }
            options.styleSteps = Int(params.load(fromByteOffset: PersonalizeParamsC.styleSteps, as: Int32.self))
            options.basisSteps = Int(params.load(fromByteOffset: PersonalizeParamsC.basisSteps, as: Int32.self))
            options.styleLearningRate = params.load(fromByteOffset: PersonalizeParamsC.styleLR, as: Float.self)
            options.basisLearningRate = params.load(fromByteOffset: PersonalizeParamsC.basisLR, as: Float.self)
            options.velocityWeight = params.load(fromByteOffset: PersonalizeParamsC.velocity, as: Float.self)
            options.lipContactWeight = params.load(fromByteOffset: PersonalizeParamsC.lipContact, as: Float.self)
            if size >= PersonalizeParamsC.lipClosure + 4 {
                options.lipClosureWeight = params.load(fromByteOffset: PersonalizeParamsC.lipClosure, as: Float.self)
            }
            let held = Int(params.load(fromByteOffset: PersonalizeParamsC.heldOut, as: Int32.self))
            options.heldOutClip = held >= 0 ? held : nil
            let slot = Int(params.load(fromByteOffset: PersonalizeParamsC.initialSlot, as: Int32.self))
            if m.family == .imitator { options.initialStyle = try m.styleVector(.slot(slot)) }
            guard options.styleSteps >= 0, options.basisSteps >= 0, options.styleSteps + options.basisSteps <= 1_000_000,
                  [options.styleLearningRate, options.basisLearningRate, options.velocityWeight, options.lipContactWeight,
                   options.lipClosureWeight].allSatisfy({ $0.isFinite && $0 >= 0 }) else {
                throw MimeticError.invalidArgument("mimetic_personalize: steps must be >= 0 and rates/weights finite and >= 0")
            }
            guard held < n else { throw MimeticError.invalidArgument("mimetic_personalize: held_out_clip \(held) but only \(n) clips") }
        }
        var refs: [ReferenceClip] = []
        for i in 0..<n {
            let c = clips + i * clipSize
            let audio = c.load(fromByteOffset: 0, as: UnsafePointer<Float>?.self)
            let samples = c.load(fromByteOffset: 8, as: Int.self)
            let rate = Int(c.load(fromByteOffset: 16, as: Int32.self))
            guard let offsets = c.load(fromByteOffset: 24, as: UnsafePointer<Float>?.self) else {
                throw MimeticError.invalidArgument("mimetic_personalize: clip \(i) has no offsets")
            }
            let frames = c.load(fromByteOffset: 32, as: Int.self)
            guard frames > 0, frames < 10_000_000 else { throw MimeticError.invalidArgument("mimetic_personalize: clip \(i) has \(frames) frames") }
            let events = c.load(fromByteOffset: 40, as: UnsafePointer<Int32>?.self)
            let nEvents = c.load(fromByteOffset: 48, as: Int.self)
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
        return .ok
    }
}

@_cdecl("mimetic_persona_from_style")
public func mimetic_persona_from_style(_ model: OpaquePointer?, _ style: UnsafePointer<Float>?, _ n: Int,
                                       _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return fail(.invalidArgument, "mimetic_persona_from_style: out_persona is NULL") }
    out.pointee = nil
    guard let model else { return fail(.invalidArgument, "mimetic_persona_from_style: model is NULL") }
    guard let style else { return fail(.invalidArgument, "mimetic_persona_from_style: style is NULL") }
    return guarded {
        let m = handle(model).model
        let p = try m.persona(style: .code(Array(UnsafeBufferPointer(start: style, count: n))), provenance: ["method": "style"])
        publish(PersonaHandle(p, family: m.family), out)
        return .ok
    }
}

@_cdecl("mimetic_persona_load")
public func mimetic_persona_load(_ model: OpaquePointer?, _ path: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return fail(.invalidArgument, "mimetic_persona_load: out_persona is NULL") }
    out.pointee = nil
    guard let model else { return fail(.invalidArgument, "mimetic_persona_load: model is NULL") }
    guard let path else { return fail(.invalidArgument, "mimetic_persona_load: path is NULL") }
    return guarded {
        let m = handle(model).model
        publish(PersonaHandle(try Persona.load(path: String(cString: path), for: m), family: m.family), out)
        return .ok
    }
}

@_cdecl("mimetic_persona_save")
public func mimetic_persona_save(_ p: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> Int32 {
    guard let p else { return fail(.invalidArgument, "mimetic_persona_save: persona is NULL") }
    guard let path else { return fail(.invalidArgument, "mimetic_persona_save: path is NULL") }
    return guarded {
        let h = personaHandle(p)
        try h.persona.write(path: String(cString: path), family: h.family)
        return .ok
    }
}

@_cdecl("mimetic_persona_free")
public func mimetic_persona_free(_ p: OpaquePointer?) {
    guard let p else { return }
    Unmanaged<PersonaHandle>.fromOpaque(UnsafeRawPointer(p)).release()
}

@_cdecl("mimetic_persona_get_style")
public func mimetic_persona_get_style(_ p: OpaquePointer?, _ out: UnsafeMutablePointer<Float>?, _ capacity: Int) -> Int32 {
    guard let p else { return fail(.invalidArgument, "mimetic_persona_get_style: persona is NULL") }
    guard let out else { return fail(.invalidArgument, "mimetic_persona_get_style: out is NULL") }
    let s = personaHandle(p).persona.style
    guard capacity >= s.count else { return fail(.bufferTooSmall, "mimetic_persona_get_style: capacity \(capacity); the style has \(s.count) floats") }
    s.withUnsafeBufferPointer { out.update(from: $0.baseAddress!, count: s.count) }
    return Status.ok.rawValue
}

@_cdecl("mimetic_persona_has_basis")
public func mimetic_persona_has_basis(_ p: OpaquePointer?) -> Int32 {
    guard let p else { return 0 }
    return personaHandle(p).persona.basisWeightDelta == nil ? 0 : 1
}

@_cdecl("mimetic_stream_set_persona")
public func mimetic_stream_set_persona(_ s: OpaquePointer?, _ p: OpaquePointer?) -> Int32 {
    guard let s else { return fail(.invalidArgument, "mimetic_stream_set_persona: stream is NULL") }
    guard let p else { return fail(.invalidArgument, "mimetic_stream_set_persona: persona is NULL") }
    return guarded {
        try Unmanaged<StreamHandle>.fromOpaque(UnsafeRawPointer(s)).takeUnretainedValue().engine.setPersona(personaHandle(p).persona)
        return .ok
    }
}

@_cdecl("mimetic_persona_blend")
public func mimetic_persona_blend(_ a: OpaquePointer?, _ b: OpaquePointer?, _ t: Float, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return fail(.invalidArgument, "mimetic_persona_blend: out_persona is NULL") }
    out.pointee = nil
    guard let a, let b else { return fail(.invalidArgument, "mimetic_persona_blend: persona is NULL") }
    return guarded {
        let ha = personaHandle(a)
        publish(PersonaHandle(try Persona.blend(ha.persona, personaHandle(b).persona, t: t), family: ha.family), out)
        return .ok
    }
}
