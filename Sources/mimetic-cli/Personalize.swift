import ArgumentParser
import Foundation
import MimeticCore

struct Personalize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Learn a person's speaking style from reference clips and write a persona file.",
        discussion: """
        Imitator models: two-stage adaptation (style vector, then style and motion basis) on the clips' \
        audio and tracked meshes; the last clip is held out for early stopping when there are two or more. \
        Mimic models: the style encoder on the reference motion (audio unused). \
        Each --ref is AUDIO.wav:MOTION.npy[:EVENTS.npy] with MOTION [frames, V, 3] (or [frames, 3V]) at \
        the model's frame rate and EVENTS the frames of m/b/p closures (optional).
        """)

    enum ReferenceKind: String, CaseIterable, ExpressibleByArgument { case vertices, offsets }

    @Option(help: "Model file.") var model: String
    @Option(name: .customLong("ref"), help: "AUDIO.wav:MOTION.npy[:EVENTS.npy] (repeatable).") var refs: [String] = []
    @Option(name: .customLong("ref-livelink"), help: ArgumentHelp("TAKE.csv:AUDIO.wav[:PHONES.txt]: a Live Link Face take (ARKit weights) with its audio (repeatable).",
                                                                  discussion: "PHONES.txt: the audio's forced alignment as 'start end phone' lines (`mimetic-align AUDIO.wav --text ...` writes it); its m/b/p phones place the lip closures. Without it, closures are found in the take's motion."))
    var takes: [String] = []
    @Option(help: "Blendshape basis the takes' weights go through, in the model's topology (default: arkit52.safetensors next to the model).")
    var basis: String?
    @Option(help: "Audio-to-take offset of every take, ms (default: estimated from the mouth and the audio).") var takeOffsetMs: Double?
    @Option(help: "Persona file to write (.safetensors).") var out: String
    @Option(help: "What the motion files hold: vertex positions (the model's template is subtracted) or offsets.") var refKind: ReferenceKind = .vertices
    @Option(help: "Stage 1 steps (style vector).") var styleSteps = AdaptationOptions().styleSteps
    @Option(help: "Stage 2 steps (style vector + motion basis).") var basisSteps = AdaptationOptions().basisSteps
    @Flag(help: "Skip stage 2: adapt the style vector only.") var noBasis = false
    @Option(help: "Where stage 1 starts: slot0 (Imitator's choice), mean (the mean of the slots), or best (the mean or a slot, whichever fits the reference best).")
    var start = AdaptationOptions().start
    @Option(help: "Adapt this many times, each early-stopped on another of the first FOLDS clips, and average (FOLDS times the time; 0: once).")
    var folds = AdaptationOptions().folds
    @Option(help: "λ of the lip-contact weighting (0: off).") var lipContactWeight: Float = AdaptationOptions().lipContactWeight
    @Option(help: "μ of the lip-closure term on the model's inner-lip pairs (0: off).") var lipClosureWeight: Float = AdaptationOptions().lipClosureWeight
    @Option(help: "BLAS threads.") var threads: Int?
    @Flag(help: "No progress bar.") var quiet = false

    func run() throws {
        try reportingErrors {
            try applyThreads(threads)
            let m = try MimeticModel(path: model)
            guard !refs.isEmpty || !takes.isEmpty else { throw MimeticError.invalidArgument("give at least one --ref or --ref-livelink") }
            var clips: [ReferenceClip] = []
            if !takes.isEmpty {
                let retarget = try Retarget(path: try basis ?? arkitBasisPath(nextTo: model, option: "--ref-livelink without --basis"),
                                            outputSize: m.outputSize)
                for take in takes {
                    let parts = take.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
                    guard (2...3).contains(parts.count) else {
                        throw MimeticError.invalidArgument("--ref-livelink '\(take)': expected TAKE.csv:AUDIO.wav[:PHONES.txt]")
                    }
                    let wav = try readWAV(path: parts[1])
                    let phones = parts.count == 3 ? try PhoneLabels(path: parts[2]).bilabial : nil
                    let (clip, used) = try m.referenceClip(take: LiveLinkTake(path: parts[0]), audio: wav.samples, sampleRate: wav.sampleRate,
                                                           basis: retarget, offset: takeOffsetMs.map { $0 / 1000 }, phones: phones)
                    FileHandle.standardError.write(Data(String(format: "%@: %d frames, audio-to-take offset %.0f ms%@, %d lip closures (%@)\n", parts[0],
                                                               clip.offsets.rows, 1000 * used, takeOffsetMs == nil ? " (estimated)" : "",
                                                               clip.bilabialFrames.count, phones == nil ? "from the motion" : "at the aligned m/b/p").utf8))
                    clips.append(clip)
                }
            }
            for ref in refs {
                let parts = ref.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
                let hasAudio = parts.count >= 2
                guard (1...3).contains(parts.count), !(m.family == .imitator && !hasAudio) else {
                    throw MimeticError.invalidArgument("--ref '\(ref)': expected AUDIO.wav:MOTION.npy[:EVENTS.npy]")
                }
                let motionPath = hasAudio ? parts[1] : parts[0]
                let (data, shape) = try readNPY(path: motionPath)
                let width = m.outputSize
                guard let frames = shape.first, frames > 0, data.count == frames * width else {
                    throw MimeticError.invalidArgument("\(motionPath) has shape \(shape); expected [frames, \(width / 3), 3] or [frames, \(width)]")
                }
                var motion = Matrix(rows: frames, cols: width, data: data)
                if refKind == .vertices {
                    guard let tpl = m.template else { throw MimeticError.invalidArgument("the model has no template: pass offsets with --ref-kind offsets") }
                    for r in 0..<frames { for c in 0..<width { motion.data[r * width + c] -= tpl[c] } }
                }
                let audio = hasAudio ? try loadSpeech(parts[0], for: m) : []
                let events = parts.count == 3 ? try readNPY(path: parts[2]).data.map { Int($0) } : []
                clips.append(ReferenceClip(audio: audio, offsets: motion, bilabialFrames: events))
            }
            let started = Date()
            let persona: Persona
            switch m.family {
            case .imitator:
                var options = AdaptationOptions()
                options.styleSteps = styleSteps
                options.basisSteps = noBasis ? 0 : basisSteps
                options.start = start
                options.folds = folds
                options.lipContactWeight = lipContactWeight
                options.lipClosureWeight = lipClosureWeight
                let bar = quiet ? nil : ProgressBar(label: "personalizing")
                persona = try ImitatorAdaptation.adapt(model: m, clips: clips, options: options) { p in
                    bar?.update(done: p.step, total: p.totalSteps)
                    return true
                }
                bar?.finish()
            case .mimic:
                var all: [Float] = []
                for c in clips { all += c.offsets.data }
                let motion = Matrix(rows: all.count / m.outputSize, cols: m.outputSize, data: all)
                persona = try m.persona(style: .motion(motion), provenance: ["method": "mimic-style-encoder", "frames": "\(motion.rows)"])
            case .faceformer:
                throw MimeticError.invalidArgument("FaceFormer styles are the training subjects' one-hot slots: use animate --style or --style-weights")
            }
            try persona.write(path: out, family: m.family)
            FileHandle.standardError.write(Data(String(format: "persona written to %@ (%d clip(s), %.1f s)\n", out, clips.count, Date().timeIntervalSince(started)).utf8))
        }
    }
}

/// `--start slot0|mean|best`: the core's choices, by their names.
extension AdaptationOptions.Start: ExpressibleByArgument {}
