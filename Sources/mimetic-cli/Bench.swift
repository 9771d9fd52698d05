import ArgumentParser
import Foundation
import MimeticCore

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time offline animation of a model, per stage, against this machine's sgemm peak.",
        discussion: "tools/bench.py runs this side by side with the PyTorch reference on the same model and threads.")

    @Option(help: "Model file.") var model: String
    @Option(help: "Speech WAV (default: a deterministic synthetic speech-like signal).") var audio: String?
    @Option(help: "Seconds of synthetic audio.") var seconds: Double = 10
    @Option(help: "BLAS threads.") var threads: Int = 2
    @Option(help: "Timed runs (the median is reported) after one warm-up.") var repeats: Int = 5
    @Flag(help: "Print one JSON object instead of a table.") var json = false

    func run() throws {
        try reportingErrors {
            try applyThreads(threads)
            let m = try MimeticModel(path: model)
            let speech = try audio.map { try loadSpeech($0, for: m) } ?? syntheticSpeech(seconds: seconds, rate: m.config.sample_rate)
            let style: StyleInput = m.family == .mimic && m.styleNames.isEmpty
                ? .motion(Matrix(zeros: m.config.mimic!.style_window, m.outputSize)) : .slot(0)
            _ = try m.animate(audio: speech, style: style)
            var runs: [(total: Double, stages: [String: Double])] = []
            for _ in 0..<max(1, repeats) {
                let timer = StageTimer()
                let t0 = Date()
                _ = try m.animate(audio: speech, style: style, timer: timer)
                runs.append((Date().timeIntervalSince(t0), timer.seconds))
            }
            runs.sort { $0.total < $1.total }
            let median = runs[runs.count / 2]
            let cost = m.cost(samples: speech.count)
            let peak = measureSgemmPeak()
            let audioSeconds = Double(speech.count) / Double(m.config.sample_rate)
            let gflops = cost.total / median.total / 1e9
            if json {
                var obj: [String: Any] = ["seconds": median.total, "audio_seconds": audioSeconds, "threads": threads,
                                          "gflop": cost.total / 1e9, "gflops": gflops, "sgemm_peak_gflops": peak,
                                          "blas_core": Threading.blasCore, "blas_threads": Threading.threads,
                                          "stages": median.stages,
                                          "stage_gflop": ["mel": cost.mel / 1e9, "cnn": cost.cnn / 1e9, "transformer": cost.transformer / 1e9,
                                                          "decoder": cost.decoder / 1e9, "motion_out": cost.motionOut / 1e9],
                                          "encoder": m.config.realtime == nil ? "wav2vec2" : "realtime",
                                          "frames": m.frameCount(samples: speech.count)]
                obj["all_runs"] = runs.map(\.total)
                let data = try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
                return
            }
            print(String(format: "mimetic: %.3f s for %.1f s of audio (median of %d, %d threads, OpenBLAS %@): %.1f GFLOP, %.1f GFLOP/s = %.0f%% of sgemm peak %.1f GFLOP/s",
                         median.total, audioSeconds, runs.count, Threading.threads, Threading.blasCore, cost.total / 1e9, gflops, 100 * gflops / peak, peak))
            let flops = ["mel": cost.mel, "cnn": cost.cnn, "transformer": cost.transformer, "audio_map": m.config.realtime == nil ? 0 : cost.transformer,
                         "decoder": cost.decoder, "motion_out": cost.motionOut]
            // The real-time encoder: "mel" is its front end, "cnn" its conv stack.
            let names = m.config.realtime == nil ? ["cnn", "transformer", "audio_map", "decoder", "motion_out"]
                                                 : ["mel", "cnn", "audio_map", "decoder", "motion_out"]
            let frames = m.frameCount(samples: speech.count)
            for name in names {
                let s = median.stages[name] ?? 0
                let g = (flops[name] ?? 0) / 1e9
                let label = name.padding(toLength: 12, withPad: " ", startingAt: 0)
                print("  " + label + String(format: " %7.3f s  %6.1f%%  %7.2f GFLOP  %6.1f GFLOP/s  %8.4f ms/frame", s, 100 * s / median.total, g,
                                            s > 0 ? g / s : 0, 1000 * s / Double(max(frames, 1))))
            }
        }
    }
}

/// A deterministic speech-like test signal: a voiced source with a gliding pitch, formant-ish
/// harmonics, noise bursts and a syllabic envelope (not speech, but exercises the same paths).
func syntheticSpeech(seconds: Double, rate: Int) -> [Float] {
    let n = Int(seconds * Double(rate))
    var out = [Float](repeating: 0, count: n)
    var phase = 0.0
    var seed: UInt64 = 0x9E3779B97F4A7C15
    for i in 0..<n {
        let t = Double(i) / Double(rate)
        let f0 = 120 + 30 * sin(2 * .pi * 0.7 * t)
        phase += 2 * .pi * f0 / Double(rate)
        var v = 0.0
        for k in 1...8 { v += sin(Double(k) * phase) / Double(k) * (k == 3 || k == 6 ? 1.5 : 1) }
        seed = seed &* 6364136223846793005 &+ 1442695040888963407
        let noise = Double(Int64(bitPattern: seed >> 11) % 1000) / 1000.0
        let envelope = 0.5 + 0.5 * sin(2 * .pi * 4 * t)
        out[i] = Float(0.2 * envelope * v + 0.02 * noise)
    }
    return out
}
