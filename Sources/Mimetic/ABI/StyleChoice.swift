import CMimeticABI
import MimeticCore

/// The style fields that `mimetic_stream_params` and `mimetic_animate_params` share, read from the
/// caller's struct: one rule for which of them wins (persona; slot >= 0; weights; code).
struct StyleChoice {
    var slot: Int32
    var weights: UnsafeBufferPointer<Float>?
    var code: UnsafeBufferPointer<Float>?
    var persona: PersonaHandle?

    init(slot: Int32, weights: UnsafePointer<Float>?, weightsCount: Int, code: UnsafePointer<Float>?, codeCount: Int,
         persona: OpaquePointer?, function: String) throws {
        self.slot = slot
        let wn = try CallerSize.count(UInt(bitPattern: weightsCount), "params->style_weights_count", function: "params")
        let cn = try CallerSize.count(UInt(bitPattern: codeCount), "params->style_code_count", function: "params")
        self.weights = weights.map { UnsafeBufferPointer(start: $0, count: wn) }
        self.code = code.map { UnsafeBufferPointer(start: $0, count: cn) }
        self.persona = persona.map(personaHandle)
    }

    /// The style vector the choice names, checked against `model`.
    func vector(for model: MimeticModel, function: String) throws -> [Float] {
        guard slot >= -1 else {
            throw MimeticError.invalidArgument("\(function): style_slot \(slot) is out of range (a slot index, or -1 for style_weights/style_code)")
        }
        // A persona's model is checked where it is used (animate(audio:persona:), setPersona).
        if let persona { return persona.persona.style }
        if slot >= 0 { return try model.styleVector(.slot(Int(slot))) }
        if let weights { return try model.styleVector(.weights(Array(weights))) }
        if let code { return try model.styleVector(.code(Array(code))) }
        throw MimeticError.invalidArgument("\(function): style_slot is -1 but neither style_weights nor style_code is set")
    }
}
