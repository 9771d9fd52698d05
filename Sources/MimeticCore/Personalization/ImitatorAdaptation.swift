import Foundation

/// A recording of the person to imitate: speech and the tracked meshes of the same moments, in the
/// model's topology and frame rate.
public struct ReferenceClip: Sendable {
    public var audio: [Float]            // mono 16 kHz
    public var offsets: Matrix           // [frames, 3V] vertex offsets from the model's template
    public var bilabialFrames: [Int]     // frames of m/b/p closures (may be empty)
    public init(audio: [Float], offsets: Matrix, bilabialFrames: [Int] = []) {
        self.audio = audio
        self.offsets = offsets
        self.bilabialFrames = bilabialFrames
    }
}

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
    /// Index of the clip held out for early stopping (nil: the last one when there are ≥ 2).
    public var heldOutClip: Int? = nil
    /// Evaluations (every `evaluateEvery` steps) without improvement before a stage stops.
    public var patience = 5
    public var evaluateEvery = 10
    /// The style to start from (nil: slot 0 of the model, as Imitator starts from a training subject).
    public var initialStyle: [Float]? = nil
    public init() {}
}

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

/// Progress of an adaptation: return false from the callback to cancel.
public struct AdaptationProgress: Sendable {
    public var stage: Int
    public var step: Int
    public var totalSteps: Int
    public var trainingLoss: Double
    public var heldOutLoss: Double?
}

/// Imitator's personalisation (Thambiraja et al. 2023, §3.8 of the reference notes): the viseme
/// features of the reference audio are computed once with the frozen generalized model; then
/// Adam optimises the style vector (stage 1), then the style vector and the motion basis
/// (stage 2), keeping the parameters with the lowest held-out loss.
public enum ImitatorAdaptation {
    public static func adapt(model: MimeticModel, clips: [ReferenceClip], options: AdaptationOptions = AdaptationOptions(),
                             progress: ((AdaptationProgress) -> Bool)? = nil) throws -> Persona {
        guard case .imitator(let head) = model.head else {
            throw MimeticError.invalidArgument("adaptation needs an Imitator model; this is a \(model.family.rawValue) model (Mimic: style from motion; FaceFormer: slot blends)")
        }
        guard !clips.isEmpty else { throw MimeticError.invalidArgument("no reference clips") }
        let d = model.config.decoder.d_model, D = model.outputSize
        let start = try options.initialStyle.map { try model.styleVector(.code($0)) } ?? model.styleVector(.slot(0))
        let started = Date()
        // Viseme features once per clip (frozen), aligned with the reference frames.
        var prepared: [AdaptationObjective.Clip] = []
        for (i, clip) in clips.enumerated() {
            guard clip.offsets.cols == D else {
                throw MimeticError.invalidArgument("reference clip \(i): \(clip.offsets.cols) values per frame; the model's meshes have \(D) (3 x \(D / 3) vertices)")
            }
            guard clip.offsets.data.allSatisfy({ $0.isFinite }) else { throw MimeticError.invalidArgument("reference clip \(i): motion contains NaN or Inf") }
            let features = try model.audioFeatures(clip.audio)
            let visemes = model.decodeHidden(features, styleVector: start)
            let frames = min(visemes.rows, clip.offsets.rows)
            guard abs(visemes.rows - clip.offsets.rows) <= 2, frames > 0 else {
                throw MimeticError.invalidArgument("reference clip \(i): the audio makes \(visemes.rows) frames at \(model.config.fps) fps but the motion has \(clip.offsets.rows)")
            }
            var w = [Float](repeating: 0, count: frames)
            for e in clip.bilabialFrames {
                for k in -2...2 where e + k >= 0 && e + k < frames { w[e + k] = Foundation.expf(-Float(k * k) / 2) }
            }
            prepared.append(.init(features: visemes.rows(0..<frames), target: clip.offsets.rows(0..<frames), frameWeights: w))
        }
        // Optimise in units of the reference motion's RMS: the basis weights of a model trained on
        // metres are O(1e-3) and the losses O(1e-6) m², where Adam's fixed step size and epsilon are
        // meaningless (a 1e-3 step on the raw basis multiplied the loss by a thousand). Dividing the
        // targets, basis and bias by σ leaves the minimiser unchanged (y/σ = h·(W/σ) + b/σ) and puts
        // them on the O(1) scale the model was trained at.
        let sigma = Self.rootMeanSquare(prepared.map(\.target))
        prepared = prepared.map { .init(features: $0.features, target: $0.target.scaled(by: 1 / sigma), frameWeights: $0.frameWeights) }
        let lossUnit = Double(sigma) * Double(sigma)
        let heldIndex = options.heldOutClip ?? (prepared.count >= 2 ? prepared.count - 1 : nil)
        let train = prepared.enumerated().filter { $0.offset != heldIndex }.map(\.element)
        let held = heldIndex.map { [prepared[$0]] } ?? train
        var objective = AdaptationObjective(head: head, d: d, outputs: D)
        objective.velocityWeight = options.velocityWeight
        objective.lipContactWeight = options.lipContactWeight
        objective.lipClosureWeight = options.lipClosureWeight
        if let pairs = model.lipPairs {
            objective.lipPairs = zip(pairs.upper, pairs.lower).map { (Int($0), Int($1)) }
        }

        var style = start
        var weight = head.motionOut.weight.toArray().map { $0 / sigma }
        var bias = head.motionOut.bias!.toArray().map { $0 / sigma }
        let originalWeight = weight, originalBias = bias
        let total = options.styleSteps + options.basisSteps
        var stepsDone = 0
        var cancelled = false

        func heldOutLoss() -> Double {   // in σ units
            weight.withUnsafeBufferPointer { wp in bias.withUnsafeBufferPointer { bp in
                objective.evaluate(held, style: style, weight: wp.baseAddress!, bias: bp.baseAddress!, gradients: false, basisGradients: false).loss
            } }
        }

        for stage in 1...2 {
            let steps = stage == 1 ? options.styleSteps : options.basisSteps
            guard steps > 0, !cancelled else { continue }
            var adamStyle = Adam(count: d, learningRate: stage == 1 ? options.styleLearningRate : options.basisLearningRate)
            var adamWeight = Adam(count: D * d, learningRate: options.basisLearningRate)
            var adamBias = Adam(count: D, learningRate: options.basisLearningRate)
            var best = (loss: heldOutLoss(), style: style, weight: weight, bias: bias)
            var sinceBest = 0
            for step in 1...steps {
                let g = weight.withUnsafeBufferPointer { wp in bias.withUnsafeBufferPointer { bp in
                    objective.evaluate(train, style: style, weight: wp.baseAddress!, bias: bp.baseAddress!, gradients: true, basisGradients: stage == 2)
                } }
                adamStyle.step(&style, g.style)
                if stage == 2 {
                    adamWeight.step(&weight, g.weight!)
                    adamBias.step(&bias, g.bias!)
                }
                stepsDone += 1
                var heldLoss: Double? = nil
                if step % options.evaluateEvery == 0 || step == steps {
                    let l = heldOutLoss()
                    heldLoss = l
                    if l < best.loss { best = (l, style, weight, bias); sinceBest = 0 } else { sinceBest += 1 }
                }
                if let progress, !progress(AdaptationProgress(stage: stage, step: stepsDone, totalSteps: total,
                                                            trainingLoss: g.loss * lossUnit, heldOutLoss: heldLoss.map { $0 * lossUnit })) {
                    cancelled = true
                    break
                }
                if sinceBest >= options.patience { break }
            }
            (style, weight, bias) = (best.style, best.weight, best.bias)
        }
        if cancelled { throw MimeticError.cancelled }
        let basisChanged = options.basisSteps > 0
        return Persona(
            style: style,
            basisWeightDelta: basisChanged ? zip(weight, originalWeight).map { ($0 - $1) * sigma } : nil,
            basisBiasDelta: basisChanged ? zip(bias, originalBias).map { ($0 - $1) * sigma } : nil,
            modelFingerprint: model.fingerprint,
            provenance: ["method": "imitator-two-stage", "clips": "\(clips.count)",
                         "lip_contact_weight": "\(options.lipContactWeight)",
                         "lip_closure_weight": objective.lipPairs.isEmpty ? "0 (the model has no lip_pairs)" : "\(options.lipClosureWeight)",
                         "reference_seconds": String(format: "%.2f", clips.reduce(0.0) { $0 + Double($1.audio.count) / 16000 }),
                         "held_out_loss": String(format: "%.6g", heldOutLoss() * lossUnit),
                         "seconds": String(format: "%.2f", Date().timeIntervalSince(started))])
    }
}

extension ImitatorAdaptation {
    /// RMS over every value of the reference motion (1 when it is all zeros, so nothing divides by 0).
    static func rootMeanSquare(_ targets: [Matrix]) -> Float {
        var sum = 0.0, count = 0
        for m in targets { for x in m.data { sum += Double(x) * Double(x) }; count += m.data.count }
        let rms = count > 0 ? Float((sum / Double(count)).squareRoot()) : 0
        return rms > 0 && rms.isFinite ? rms : 1
    }
}

/// Adam (Kingma & Ba 2015) over a flat parameter vector.
struct Adam {
    var m: [Float], v: [Float]
    var t = 0
    let learningRate: Float
    let beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8

    init(count: Int, learningRate: Float) {
        m = [Float](repeating: 0, count: count)
        v = m
        self.learningRate = learningRate
    }

    mutating func step(_ x: inout [Float], _ g: [Float]) {
        t += 1
        let c1 = 1 - Foundation.powf(beta1, Float(t)), c2 = 1 - Foundation.powf(beta2, Float(t))
        for i in 0..<x.count {
            m[i] = beta1 * m[i] + (1 - beta1) * g[i]
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
            x[i] -= learningRate * (m[i] / c1) / ((v[i] / c2).squareRoot() + epsilon)
        }
    }
}
