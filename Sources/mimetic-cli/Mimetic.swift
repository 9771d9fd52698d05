import ArgumentParser
import Foundation
import MimeticCore

@main
struct MimeticCLI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mimetic",
        abstract: "Speech to 3D facial animation (FaceFormer, Imitator and Mimic models).",
        version: "0.1.0",
        subcommands: [Animate.self, Personalize.self, Info.self, Bench.self, Stages.self, StreamEval.self]
    )
}

/// Shared by the subcommands: a thrown MimeticError becomes a one-line message and exit code 1.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let e as MimeticError {
        FileHandle.standardError.write(Data("mimetic: \(e.description)\n".utf8))
        throw ExitCode(1)
    } catch let e as ExitCode {
        throw e
    } catch {
        FileHandle.standardError.write(Data("mimetic: \(error)\n".utf8))
        throw ExitCode(1)
    }
}

/// Reads a WAV and brings it to the model's rate (mono mix-down and band-limited resampling).
/// A WAV file as the model's input (resampled to its rate), the same path as `mimetic_animate`.
func loadSpeech(_ path: String, for model: MimeticModel) throws -> [Float] {
    let wav = try readWAV(path: path)
    return try model.speech(wav.samples, sampleRate: wav.sampleRate, name: path)
}

/// The ARKit-52 basis shipped beside a model (models/arkit52.safetensors next to models/default.safetensors).
func arkitBasisPath(nextTo modelPath: String, option: String) throws -> String {
    let dir = modelPath.contains("/") ? String(modelPath[..<modelPath.lastIndex(of: "/")!]) : "."
    let path = dir + "/arkit52.safetensors"
    guard FileManager.default.fileExists(atPath: path) else {
        throw MimeticError.invalidArgument("\(option) looks for arkit52.safetensors next to the model (\(path)): there is none; pass a basis file in the model's topology")
    }
    return path
}

/// `--threads` checked before it reaches OpenBLAS.
func applyThreads(_ n: Int?) throws {
    guard let n else { return }
    guard (1...256).contains(n) else { throw MimeticError.invalidArgument("--threads \(n) is outside 1...256") }
    Threading.setThreads(n)
}
