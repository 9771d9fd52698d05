
/// A persona file: a `.safetensors` holding what personalisation learned, for one model.
///
///   style                [d]        style vector (Imitator/FaceFormer embedding, Mimic code)
///   basis_delta.weight   [3V, d]    change of the motion basis (Imitator stage 2; optional)
///   basis_delta.bias     [3V]
///   metadata mimetic.persona = {"format": 1, "family": ..., "model_fingerprint": ..., "provenance": {...}}
extension Persona {
    public func write(path: String, family: ModelConfig.Family) throws {
        var tensors: [String: SafeTensorsWriter.Tensor] = ["style": .f32(style, [style.count])]
        if let w = basisWeightDelta, let b = basisBiasDelta {
            tensors["basis_delta.weight"] = .f32(w, [b.count, w.count / max(b.count, 1)])
            tensors["basis_delta.bias"] = .f32(b, [b.count])
        }
        let meta: JSONValue = .object(["format": .integer(1), "family": .string(family.rawValue),
                                       "model_fingerprint": .string(modelFingerprint),
                                       "provenance": .object(provenance.mapValues { .string($0) })])
        let json = meta.serialized
        try SafeTensorsWriter.write(path: path, tensors: tensors, metadata: ["mimetic.persona": json])
    }

    /// Loads a persona and checks that it belongs to `model`.
    public static func load(path: String, for model: MimeticModel) throws -> Persona {
        let store: TensorStore
        do {
            store = try TensorStore(path: path)
        } catch MimeticError.invalidModel(let m) {
            throw MimeticError.invalidModel("not a persona file: \(m)")
        }
        return try load(store: store, for: model)
    }

    public static func load(store: TensorStore, for model: MimeticModel) throws -> Persona {
        let src = store.source
        guard let json = store.metadata["mimetic.persona"],
              let meta = (try? JSONValue(parsing: json))?.objectValue else {
            throw MimeticError.invalidModel("\(src): not a Mimetic persona file (no 'mimetic.persona' metadata)")
        }
        guard meta["format"]?.intValue == 1 else {
            throw MimeticError.unsupported("\(src): persona format \(meta["format"]?.serialized ?? "missing") (this runtime reads format 1)")
        }
        let fingerprint = meta["model_fingerprint"]?.stringValue ?? ""
        guard fingerprint == model.fingerprint else {
            throw MimeticError.invalidArgument("\(src): this persona was made for the model \(fingerprint); the loaded model is \(model.fingerprint)")
        }
        let d = model.config.decoder.d_model, D = model.outputSize
        // Every value must be finite: a persona is untrusted input, and one NaN spreads to every frame.
        // (Finite but absurd values are caught where they overflow: animation refuses non-finite output.)
        try store.validateAllFinite()
        let style = try store.weight("style", shape: [d]).toArray()
        let w = try store.optionalWeight("basis_delta.weight", shape: [D, d])?.toArray()
        let b = try store.optionalWeight("basis_delta.bias", shape: [D])?.toArray()
        guard (w == nil) == (b == nil) else { throw MimeticError.invalidModel("\(src): basis_delta needs both weight and bias") }
        if w != nil, model.family != .imitator {
            throw MimeticError.invalidModel("\(src): a basis delta only applies to Imitator models")
        }
        let provenance = meta["provenance"]?.objectValue?.mapValues { $0.stringValue ?? $0.serialized } ?? [:]
        return Persona(style: style, basisWeightDelta: w, basisBiasDelta: b, modelFingerprint: fingerprint, provenance: provenance)
    }
}

extension MimeticModel {
    /// A persona from a style alone: a Mimic code from reference motion, or a FaceFormer/Imitator
    /// slot blend (no basis change).
    public func persona(style: StyleInput, provenance: [String: String] = [:]) throws -> Persona {
        let s: [Float]
        if case .motion(let m) = style { s = try styleCode(fromMotion: m) } else { s = try styleVector(style) }
        return Persona(style: s, modelFingerprint: fingerprint, provenance: provenance)
    }

    /// Offline animation in a persona's style (and, for Imitator, with its adapted motion basis).
    public func animate(audio: [Float], persona: Persona, recorder: StageRecorder? = nil) throws -> Animation {
        guard persona.modelFingerprint == fingerprint else {
            throw MimeticError.invalidArgument("persona made for model \(persona.modelFingerprint), not this one (\(fingerprint))")
        }
        guard let dw = persona.basisWeightDelta, let db = persona.basisBiasDelta, case .imitator(let head) = head else {
            return try animate(audio: audio, style: .code(persona.style), recorder: recorder)
        }
        let features = try audioFeatures(audio, recorder: recorder)
        let visemes = decodeHidden(features, styleVector: persona.style)
        let offsets = head.motion(visemes, style: persona.style, basisDelta: (dw, db))
        try Self.checkFinite(offsets.data, "animation")
        recorder?.record("offsets", offsets)
        return Animation(offsets: offsets, fps: config.fps)
    }
}

extension Persona {
    /// (1 − t)·a + t·b of the style vectors and of the basis changes (a missing basis change counts
    /// as zero): a run-time blend between two styles of one model, for every family.
    public static func blend(_ a: Persona, _ b: Persona, t: Float) throws -> Persona {
        guard a.modelFingerprint == b.modelFingerprint else {
            throw MimeticError.invalidArgument("personas of different models cannot be blended")
        }
        guard t.isFinite, a.style.count == b.style.count else { throw MimeticError.invalidArgument("blend weight must be finite") }
        func mix(_ x: [Float]?, _ y: [Float]?) -> [Float]? {
            guard x != nil || y != nil else { return nil }
            let n = (x ?? y)!.count
            let xs = x ?? [Float](repeating: 0, count: n), ys = y ?? [Float](repeating: 0, count: n)
            return zip(xs, ys).map { (1 - t) * $0 + t * $1 }
        }
        return Persona(style: mix(a.style, b.style)!, basisWeightDelta: mix(a.basisWeightDelta, b.basisWeightDelta),
                       basisBiasDelta: mix(a.basisBiasDelta, b.basisBiasDelta), modelFingerprint: a.modelFingerprint,
                       provenance: ["method": "blend", "t": "\(t)"])
    }
}
