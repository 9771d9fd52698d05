
/// Imitator's personalisation (Thambiraja et al. 2023; docs/reference-notes.md, "Imitator's personalisation"): the viseme
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
        guard AdaptationOptions.foldRange.contains(options.folds) else {
            throw MimeticError.invalidArgument("folds \(options.folds) is outside \(AdaptationOptions.foldRange)")
        }
        let d = model.config.decoder.d_model, D = model.outputSize
        let slots = try (0..<max(model.styleNames.count, 1)).map { try model.styleVector(.slot($0)) }
        let meanStyle = Self.mean(slots)
        var start: [Float]
        var startName: String
        if let given = options.initialStyle {
            start = try model.styleVector(.code(given)); startName = "given"
        } else if options.start == .slot0 {
            start = slots[0]; startName = "slot 0"
        } else {
            start = meanStyle; startName = "mean of the \(slots.count) slots"
        }
        let started = MonotonicClock.nanoseconds()
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
                for k in -2...2 where e + k >= 0 && e + k < frames { w[e + k] = expf(-Float(k * k) / 2) }
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
        // Which clip each run holds out for early stopping: one run (the given clip, or the last),
        // or with `folds` ≥ 2 one run per each of the first `folds` clips, their results averaged.
        let heldIndices: [Int?] = options.folds >= 2 && prepared.count >= 2
            ? Array(0..<min(options.folds, prepared.count))
            : [options.heldOutClip ?? (prepared.count >= 2 ? prepared.count - 1 : nil)]
        var objective = AdaptationObjective(head: head, d: d, outputs: D)
        objective.velocityWeight = options.velocityWeight
        objective.lipContactWeight = options.lipContactWeight
        objective.lipClosureWeight = options.lipClosureWeight
        if let pairs = model.lipPairs {
            objective.lipPairs = zip(pairs.upper, pairs.lower).map { (Int($0), Int($1)) }
        }

        let originalWeight = head.motionOut.weight.toArray().map { $0 / sigma }
        let originalBias = head.motionOut.bias!.toArray().map { $0 / sigma }
        // The best generic point on the reference itself: with a style-agnostic viseme decoder the
        // visemes above serve every candidate style, so each is one evaluation of the motion head.
        if options.initialStyle == nil, options.start == .best, model.config.imitator?.start_token == .zeros {
            func fit(_ s: [Float]) -> Double {
                originalWeight.withUnsafeBufferPointer { wp in originalBias.withUnsafeBufferPointer { bp in
                    objective.evaluate(prepared, style: s, weight: wp.baseAddress!, bias: bp.baseAddress!, gradients: false, basisGradients: false).loss
                } }
            }
            var bestLoss = fit(meanStyle)
            for (i, s) in slots.enumerated() where slots.count > 1 {
                let l = fit(s)
                if l < bestLoss { bestLoss = l; start = s; startName = "slot \(i) (best of the mean and the \(slots.count) slots on the reference)" }
            }
            if startName.hasPrefix("mean") { startName += " (best of the mean and the slots on the reference)" }
        }
        let total = (options.styleSteps + options.basisSteps) * heldIndices.count
        var stepsDone = 0
        var cancelled = false

        /// One early-stopped adaptation: stage 1, then stage 2, on `train`, keeping the parameters
        /// with the lowest loss on `held`; with that loss at the start and at the end.
        func adaptOnce(train: [AdaptationObjective.Clip], held: [AdaptationObjective.Clip])
            -> (style: [Float], weight: [Float], bias: [Float], startHeldOut: Double, heldOut: Double) {
            var style = start, weight = originalWeight, bias = originalBias
            func heldOutLoss() -> Double {   // in σ units
                weight.withUnsafeBufferPointer { wp in bias.withUnsafeBufferPointer { bp in
                    objective.evaluate(held, style: style, weight: wp.baseAddress!, bias: bp.baseAddress!, gradients: false, basisGradients: false).loss
                } }
            }
            let startHeldOut = heldOutLoss()
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
            return (style, weight, bias, startHeldOut, heldOutLoss())
        }

        var runs: [(style: [Float], weight: [Float], bias: [Float], startHeldOut: Double, heldOut: Double)] = []
        for heldIndex in heldIndices where !cancelled {
            let train = prepared.enumerated().filter { $0.offset != heldIndex }.map(\.element)
            runs.append(adaptOnce(train: train, held: heldIndex.map { [prepared[$0]] } ?? train))
        }
        if cancelled { throw MimeticError.cancelled }
        // The mean of the runs (one run: itself). Averaging runs stopped on different clips
        // smooths what a single short held-out clip decides (docs/personalization.md).
        let style = Self.mean(runs.map(\.style)), weight = Self.mean(runs.map(\.weight)), bias = Self.mean(runs.map(\.bias))
        let basisChanged = options.basisSteps > 0
        try MimeticModel.checkFinite(style, "adapted style")
        if basisChanged {
            try MimeticModel.checkFinite(weight, "adapted motion basis")
            try MimeticModel.checkFinite(bias, "adapted motion basis")
        }
        let changes = runs.map { $0.heldOut < $0.startHeldOut ? formatted("%.1f %%", 100 * ($0.heldOut / $0.startHeldOut - 1)) : "none" }
        let unmoved = changes.filter { $0 == "none" }.count
        let heldOutChange: String
        if unmoved == runs.count {
            heldOutChange = "none: no step improved the held-out clip" + (runs.count > 1 ? "s" : "")
                + ", so the persona is the starting style (give more or longer clips, or another held-out clip)"
        } else if runs.count > 1 {
            heldOutChange = "per fold " + changes.joined(separator: ", ") + (unmoved > 0 ? " (\(unmoved) of \(runs.count) folds did not move)" : "")
        } else {
            heldOutChange = changes[0]
        }
        return Persona(
            style: style,
            basisWeightDelta: basisChanged ? zip(weight, originalWeight).map { ($0 - $1) * sigma } : nil,
            basisBiasDelta: basisChanged ? zip(bias, originalBias).map { ($0 - $1) * sigma } : nil,
            modelFingerprint: model.fingerprint,
            provenance: ["method": "imitator-two-stage", "clips": "\(clips.count)",
                         "folds": "\(runs.count)",
                         "lip_contact_weight": "\(options.lipContactWeight)",
                         "lip_closure_weight": objective.lipPairs.isEmpty ? "0 (the model has no lip_pairs)" : "\(options.lipClosureWeight)",
                         "reference_seconds": formatted("%.2f", clips.reduce(0.0) { $0 + Double($1.audio.count) / 16000 }),
                         "held_out_loss": formatted("%.6g", runs.map(\.heldOut).reduce(0, +) / Double(runs.count) * lossUnit),
                         "initial_style": startName,
                         "held_out_change": heldOutChange,
                         "seconds": formatted("%.2f", MonotonicClock.seconds(since: started))])
    }
}

extension ImitatorAdaptation {
    /// The element-wise mean of equally long vectors (the mean style of the slots, the mean of runs).
    static func mean(_ vectors: [[Float]]) -> [Float] {
        var sum = vectors[0]
        for v in vectors.dropFirst() { for i in sum.indices { sum[i] += v[i] } }
        return sum.map { $0 / Float(vectors.count) }
    }

    /// RMS over every value of the reference motion (1 when it is all zeros, so nothing divides by 0).
    static func rootMeanSquare(_ targets: [Matrix]) -> Float {
        var sum = 0.0, count = 0
        for m in targets { for x in m.data { sum += Double(x) * Double(x) }; count += m.data.count }
        let rms = count > 0 ? Float((sum / Double(count)).squareRoot()) : 0
        return rms > 0 && rms.isFinite ? rms : 1
    }
}
