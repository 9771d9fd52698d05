/// A stream's style and persona, changed at run time without allocating: applies from the next frame.
extension StreamEngine {
    /// Switches to a persona: its style and, for an adapted Imitator persona, its motion basis
    /// (which needs a stream created with `reserveBasisDelta`).
    public func setPersona(_ persona: Persona) throws {
        guard persona.modelFingerprint == model.fingerprint else {
            throw MimeticError.invalidArgument("persona made for model \(persona.modelFingerprint), not this stream's model (\(model.fingerprint))")
        }
        if let w = persona.basisWeightDelta, let b = persona.basisBiasDelta {
            guard layout.basisDelta >= 0 else {
                throw MimeticError.invalidArgument("this persona changes the motion basis: create the stream with room for it (reserve_persona_basis, or the persona in its params)")
            }
            let dst = floats(layout.basisDelta)
            w.withUnsafeBufferPointer { dst.update(from: $0.baseAddress!, count: w.count) }
            b.withUnsafeBufferPointer { (dst + w.count).update(from: $0.baseAddress!, count: b.count) }
            header.pointee.basisDeltaActive = true
        } else {
            header.pointee.basisDeltaActive = false
        }
        try persona.style.withUnsafeBufferPointer { try setStyle($0.baseAddress!, count: $0.count) }
    }

    public func setStyle(_ style: UnsafePointer<Float>, count: Int) throws {
        guard count == model.config.decoder.d_model else {
            throw MimeticError.invalidArgument("style vector has \(count) values; this model's has \(model.config.decoder.d_model)")
        }
        for i in 0..<count where !style[i].isFinite { throw MimeticError.invalidArgument("style vector contains NaN or Inf") }
        model.frameDecoder.setStyle(decoderState, style: style)
    }

    /// One slot's style (the blend is written straight into the stream's state).
    public func setStyleSlot(_ slot: Int) throws {
        let n = model.styleSlots
        guard (0..<n).contains(slot) else {
            throw MimeticError.invalidArgument("style slot \(slot) is out of range (the model has \(n) slots)")
        }
        guard n <= StreamInput.scratchFloats else { throw MimeticError.unsupported("more than \(StreamInput.scratchFloats) style slots") }
        let w = input.scratch
        w.update(repeating: 0, count: n)
        w[slot] = 1
        try setStyleWeights(w, count: n)
    }

    public func setStyleWeights(_ w: UnsafePointer<Float>, count n: Int) throws {
        let target = decoderState + model.frameDecoder.layout.head
        guard model.styleBlend(w, count: n, into: target) else {
            throw MimeticError.invalidArgument("style weights: \(n) given, the model has \(model.styleSlots) slots (and weights must be finite)")
        }
        model.frameDecoder.setStyle(decoderState, style: target)
    }
}
