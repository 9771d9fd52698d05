import ArgumentParser
import Foundation
import MimeticCore

struct Animate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Animate a WAV file: per-frame vertices or offsets (.npy, one OBJ per frame), blendshape weights (.npy), a glTF with morph targets, or a Live Link Face CSV.")

    enum Format: String, CaseIterable, ExpressibleByArgument { case npy, obj, glb, gltf, arkitCSV = "arkit-csv" }
    enum ReferenceKind: String, CaseIterable, ExpressibleByArgument { case vertices, offsets }

    @Option(help: "Model file (.safetensors in the Mimetic format).") var model: String
    @Option(help: "Speech: WAV, PCM 8/16/24/32-bit or float, any channels and rate.") var audio: String
    @Option(help: "Output: a .npy file, a directory (obj), a .glb/.gltf file, or a .csv file (arkit-csv).") var out: String
    @Option(help: "Style slot (FaceFormer/Imitator one-hot subject; Mimic: a shipped style code).") var style: Int?
    @Option(help: "Blend of style slots, comma-separated weights (one per slot).") var styleWeights: String?
    @Option(help: "Mimic: reference motion .npy, [frames, V, 3] or [frames, 3V]; its last style_window frames set the style.")
    var styleRef: String?
    @Option(help: "What --style-ref holds: vertex positions (minus the model template) or offsets.") var styleRefKind: ReferenceKind = .vertices
    @Option(help: "Persona file (mimetic personalize): style and, for Imitator, the adapted motion basis.") var persona: String?
    @Option(help: "Output format (default: from --out: npy for a .npy path, obj for a path without an extension).") var format: Format?
    @Flag(help: "Write offsets from the template instead of vertex positions.") var offsets = false
    @Option(help: ArgumentHelp("Retarget to blendshape weights: a basis file in the model's topology, or 'arkit' (arkit52.safetensors next to the model). With npy, writes weights [frames, K]; glb/gltf/arkit-csv need it (default: arkit).", valueName: "arkit|basis"))
    var weights: String?
    @Option(help: "Smoothing of the weights, ms (one-pole; 0: none).") var smoothingMs: Float = 0
    @Option(help: "Strength of the retargeted motion (0...4).") var strength: Float = 1
    @Option(help: "Lip-closure boost of the weights (0...1): firmer m/b/p closures.") var closureBoost: Float = 0
    @Option(help: "BLAS threads (default: OpenBLAS's choice).") var threads: Int?
    @Flag(help: "No progress bar.") var quiet = false

    /// The format to write, from --format and --out's extension; an extension the format does not
    /// write is refused rather than silently given other content.
    static func outputFormat(out: String, format: Format?) throws -> Format {
        let name = out.split(separator: "/").last.map(String.init) ?? out
        let ext = name.contains(".") ? String(name.split(separator: ".").last!).lowercased() : ""
        let expected: [Format: String] = [.npy: "npy", .obj: "", .glb: "glb", .gltf: "gltf", .arkitCSV: "csv"]
        if let format {
            guard expected[format] == ext else {
                if format == .obj {
                    throw MimeticError.invalidArgument("--format obj writes one OBJ per frame into a directory: give --out a directory (e.g. 'frames'), not '\(out)'")
                }
                throw MimeticError.invalidArgument("--format \(format.rawValue) writes a .\(expected[format]!) file: give --out a path ending in .\(expected[format]!), not '\(out)'")
            }
            return format
        }
        if let match = expected.first(where: { $0.value == ext }) { return match.key }
        throw MimeticError.invalidArgument("cannot tell what to write to '\(out)': the formats are npy (--out file.npy), obj (--out a directory, one .obj per frame), glb/gltf (--out face.glb: morph targets and their animation) and arkit-csv (--out take.csv: Live Link Face columns); FBX is not written")
    }

    /// The retarget --weights names (or the ARKit basis next to the model when `required`).
    func retarget(for m: MimeticModel, required: Bool) throws -> Retarget? {
        guard let name = weights ?? (required ? "arkit" : nil) else { return nil }
        let path = name == "arkit" ? try arkitBasisPath(nextTo: model, option: "--weights arkit") : name
        let plain = try Retarget(path: path, outputSize: m.outputSize)
        var controls = RetargetControls(count: plain.count)
        controls.strength = strength
        controls.smoothingMs = smoothingMs
        controls.closureBoost = closureBoost
        controls.fps = Float(m.config.fps)
        return try Retarget(plain, controls: controls)
    }

    func run() throws {
        try reportingErrors {
            let format = try Self.outputFormat(out: out, format: format)
            try applyThreads(threads)
            let m = try MimeticModel(path: model)
            let speech = try loadSpeech(audio, for: m)
            let bar = quiet ? nil : ProgressBar(label: "animating")
            let start = Date()
            let animation: Animation
            if let persona {
                guard style == nil, styleWeights == nil, styleRef == nil else {
                    throw MimeticError.invalidArgument("--persona carries the style: drop --style, --style-weights and --style-ref")
                }
                animation = try m.animate(audio: speech, persona: try Persona.load(path: persona, for: m))
            } else {
                let styleInput = try chooseStyle(m)
                animation = try m.animate(audio: speech, style: styleInput) { bar?.update(done: Int($0 * 1000), total: 1000) }
            }
            bar?.finish()
            let elapsed = Date().timeIntervalSince(start)
            let needsWeights = [.glb, .gltf, .arkitCSV].contains(format)
            if format == .obj && weights != nil {
                throw MimeticError.invalidArgument("--weights writes weights (npy), a glb/gltf or an arkit-csv; obj writes meshes: drop one")
            }
            if let r = try retarget(for: m, required: needsWeights) {
                var state = r.makeState()
                let (weights, residuals) = r.solve(frames: animation.offsets, state: &state)
                let track = try WeightTrack(names: r.names, weights: weights, fps: animation.fps)
                switch format {
                case .npy: try writeNPY(path: out, data: track.weights, shape: [track.frames, r.count])
                case .arkitCSV: try LiveLinkCSVExport.write(track, to: out)
                case .glb, .gltf:
                    try GLTFExport(model: m, basis: r.basisValues, track: track)
                        .write(to: out, binary: format == .glb, generator: "Mimetic \(MimeticCLI.configuration.version)")
                case .obj: break
                }
                FileHandle.standardError.write(Data(String(format: "%d frames at %d fps, %d blendshapes, fit residual %.2f %% (energy-weighted) in %.2f s -> %@\n",
                                                             track.frames, track.fps, r.count,
                                                             100 * Self.overallResidual(residuals, offsets: animation.offsets),
                                                             elapsed, out).utf8))
                return
            }
            var frames = animation.offsets
            if !offsets {
                guard let tpl = m.template else {
                    throw MimeticError.invalidArgument("the model has no template mesh: pass --offsets to write offsets")
                }
                for r in 0..<frames.rows { for c in 0..<frames.cols { frames.data[r * frames.cols + c] += tpl[c] } }
            }
            let v = m.config.num_vertices
            switch format {
            case .npy:
                try writeNPY(path: out, data: frames.data, shape: [frames.rows, v, 3])
            case .obj:
                _ = try frames.data.withUnsafeBufferPointer {
                    try writeOBJSequence(directory: out, frames: $0, vertexCount: v, triangles: m.triangles)
                }
            case .glb, .gltf, .arkitCSV: break   // written with the weights above
            }
            let seconds = Double(speech.count) / Double(m.config.sample_rate)
            FileHandle.standardError.write(Data(String(format: "%d frames at %d fps (%.2f s of audio) in %.2f s -> %@\n",
                                                         animation.frames, animation.fps, seconds, elapsed, out).utf8))
        }
    }

    /// The energy-weighted relative residual of a whole fit, from its per-frame residuals.
    static func overallResidual(_ residuals: [Float], offsets: Matrix) -> Double {
        var num = 0.0, den = 0.0
        for t in 0..<offsets.rows {
            var xx = 0.0
            for c in 0..<offsets.cols { let v = Double(offsets.data[t * offsets.cols + c]); xx += v * v }
            num += Double(residuals[t] * residuals[t]) * xx
            den += xx
        }
        return den > 0 ? (num / den).squareRoot() : 0
    }

    func chooseStyle(_ m: MimeticModel) throws -> StyleInput {
        let given = [style != nil, styleWeights != nil, styleRef != nil].filter { $0 }.count
        guard given <= 1 else { throw MimeticError.invalidArgument("give at most one of --style, --style-weights, --style-ref") }
        if let style { return .slot(style) }
        if let styleWeights {
            let w = styleWeights.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
            guard w.allSatisfy({ $0 != nil }) else { throw MimeticError.invalidArgument("--style-weights '\(styleWeights)' is not a list of numbers") }
            return .weights(w.map { $0! })
        }
        if let styleRef {
            guard m.family == .mimic else {
                throw MimeticError.invalidArgument("--style-ref needs a Mimic model (its style encoder); this is a \(m.family.rawValue) model: use --style or --style-weights")
            }
            let (data, shape) = try readNPY(path: styleRef)
            let width = m.outputSize
            guard let frames = shape.first, frames > 0, data.count == frames * width else {
                throw MimeticError.invalidArgument("--style-ref \(styleRef) has shape \(shape); expected [frames, \(m.config.num_vertices), 3] or [frames, \(width)]")
            }
            var motion = Matrix(rows: frames, cols: width, data: data)
            if styleRefKind == .vertices {
                guard let tpl = m.template else {
                    throw MimeticError.invalidArgument("the model has no template to turn --style-ref vertices into offsets: pass offsets with --style-ref-kind offsets")
                }
                for r in 0..<frames { for c in 0..<width { motion.data[r * width + c] -= tpl[c] } }
            }
            return .code(try m.styleCode(fromMotion: motion))
        }
        if m.family == .mimic && m.styleNames.isEmpty {
            throw MimeticError.invalidArgument("this Mimic model ships no style codes: give --style-ref")
        }
        return .slot(0)
    }
}

