/// What adaptation learns: a style vector and, after stage 2, a change of the motion basis.
public struct Persona: Sendable {
    public var style: [Float]
    public var basisWeightDelta: [Float]?   // [3V, d]
    public var basisBiasDelta: [Float]?     // [3V]
    public var modelFingerprint: String
    public var provenance: [String: String]
    public init(style: [Float], basisWeightDelta: [Float]? = nil, basisBiasDelta: [Float]? = nil,
                modelFingerprint: String, provenance: [String: String] = [:]) {
        self.style = style
        self.basisWeightDelta = basisWeightDelta
        self.basisBiasDelta = basisBiasDelta
        self.modelFingerprint = modelFingerprint
        self.provenance = provenance
    }
}
