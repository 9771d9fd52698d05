/// Progress of an adaptation: return false from the callback to cancel.
public struct AdaptationProgress: Sendable {
    public var stage: Int
    public var step: Int
    public var totalSteps: Int
    public var trainingLoss: Double
    public var heldOutLoss: Double?
}
