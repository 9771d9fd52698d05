import ArgumentParser
import Foundation
import MimeticCore

struct Stages: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a model and write every intermediate stage as .npy (for parity checks against the PyTorch reference).")

    @Option(help: "Model file.") var model: String
    @Option(help: "Input audio as .npy (float32 mono 16 kHz samples, used as is).") var audioNpy: String
    @Option(help: "Output directory.") var out: String
    @Option(help: "Style slot.") var style: Int?
    @Option(help: "Mimic: style reference offsets .npy [frames, 3V] (used whole).") var styleOffsets: String?
    @Option(help: "Mimic: initial state offsets .npy [3V].") var initState: String?
    @Option(help: "BLAS threads.") var threads: Int?

    func run() throws {
        try reportingErrors {
            try applyThreads(threads)
            let m = try MimeticModel(path: model)
            let audio = try readNPY(path: audioNpy).data
            var styleInput: StyleInput = .slot(style ?? 0)
            if let styleOffsets {
                let (data, shape) = try readNPY(path: styleOffsets)
                guard shape.count == 2, shape[0] > 0, shape[1] == m.outputSize else {
                    throw MimeticError.invalidArgument("--style-offsets \(styleOffsets) has shape \(shape); expected [frames, \(m.outputSize)]")
                }
                styleInput = .motion(Matrix(rows: shape[0], cols: shape[1], data: data))
            } else if m.family == .mimic && m.styleNames.isEmpty {
                throw MimeticError.invalidArgument("this Mimic model ships no style codes: give --style-offsets")
            }
            let initial = try initState.map { try readNPY(path: $0).data }
            let recorder = StageRecorder()
            _ = try m.animate(audio: audio, style: styleInput, initialOffsets: initial, recorder: recorder)
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            for (name, matrix) in recorder.stages {
                try writeNPY(path: "\(out)/\(name).npy", data: matrix.data, shape: [matrix.rows, matrix.cols])
            }
            print("wrote \(recorder.stages.count) stages to \(out)")
        }
    }
}
