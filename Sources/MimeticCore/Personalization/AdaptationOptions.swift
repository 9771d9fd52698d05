public struct AdaptationOptions: Sendable {
    /// Stage 1: the style vector alone.
    public var styleSteps = 150
    public var styleLearningRate: Float = 0.03
    /// Stage 2: the style vector and the motion basis (the final layer).
    public var basisSteps = 150
    public var basisLearningRate: Float = 1e-3
    public var velocityWeight: Float = 10
    /// λ of Imitator's lip-contact weighting (0 turns it off). Imitator trains with 5; adapting with
    /// 20 keeps more of the generalized model's closures (docs/personalization.md: on unseen speakers
    /// 40 % less bilabial lip-distance error than λ = 5, with an equal or lower vertex error).
    public var lipContactWeight: Float = 20
    /// μ of the lip-closure term: at the frames around m/b/p, the gap between the model's inner-lip
    /// vertex pairs must match the reference's (0 turns it off; models without `lip_pairs` skip it).
    public var lipClosureWeight: Float = 0.3
    /// With 2 or more: that many adaptations, each early-stopped on another of the first `folds`
    /// clips, averaged (style, basis); `heldOutClip` is then unused. Costs `folds` times as much; on
    /// unseen speakers, 4 folds closed the lips better than one run (docs/personalization.md).
    /// 0 or 1: one adaptation, stopped on `heldOutClip`.
    public var folds = 0
    /// The folds a run accepts (each costs one adaptation).
    public static let foldRange = 0...64
    /// Index of the clip held out for early stopping (nil: the last one when there are ≥ 2).
    public var heldOutClip: Int? = nil
    /// Evaluations (every `evaluateEvery` steps) without improvement before a stage stops.
    public var patience = 5
    public var evaluateEvery = 10
    /// The style to start from; nil: `start` decides.
    public var initialStyle: [Float]? = nil
    /// Where stage 1 starts when `initialStyle` is nil.
    public enum Start: String, CaseIterable, Sendable {
        /// Slot 0 of the model (Imitator's choice: one training subject).
        case slot0
        /// The mean of the model's style slots.
        case mean
        /// The best on the reference itself: the mean or any slot, whichever fits all the reference
        /// clips best with the generalized basis (needs a style-agnostic viseme decoder, start token
        /// "zeros"; otherwise the mean).
        case best
    }
    /// The mean: on 12 speakers the model never saw (docs/personalization.md) it adapted to 0.659 mm
    /// against 0.690 from slot 0, and beat the generalized model's mean style for every speaker.
    public var start: Start = .mean
    public init() {}
}
