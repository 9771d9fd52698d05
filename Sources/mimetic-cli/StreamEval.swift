import ArgumentParser
import Foundation
import MimeticCore

struct StreamEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stream-eval",
        abstract: "Measure streaming against offline animation over a grid of lookahead and left-context values.",
        discussion: "Pushes the audio in 10 ms chunks as an engine would, pulls every frame, and compares with the offline run of the same model and style. Prints a Markdown table (docs/streaming.md).")

    @Option(help: "Model file.") var model: String
    @Option(help: "Speech WAV.") var audio: String
    @Option(help: "Lookahead values (ms), comma-separated.") var lookahead: String = "0,100,200,300,500,1000"
    @Option(help: "Left-context values (ms), comma-separated.") var leftContext: String = "500,1000,2000"
    @Option(help: "Hop (ms).") var hop: Int = StreamParams.defaultHopMs
    @Option(help: "BLAS threads.") var threads: Int = 1
    @Option(help: "Style slot (Mimic: ignored; a reference-free code of zeros is not meaningful, so slot 0 of shipped codes or a zero motion clip).") var style: Int = 0

    func run() throws {
        try reportingErrors {
            try applyThreads(threads)
            let m = try MimeticModel(path: model)
            let speech = try loadSpeech(audio, for: m)
            let styleInput: StyleInput = m.family == .mimic && m.styleNames.isEmpty
                ? .motion(Matrix(zeros: 30, m.outputSize)) : .slot(style)
            let s = try m.styleVector(styleInput)
            let offline = try m.animate(audio: speech, style: .code(s)).offsets
            let looks = lookahead.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            let lefts = leftContext.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            if let delay = m.realtimeDelaySamples {
                try realtimeRow(m, speech: speech, style: s, offline: offline, delay: delay)
                return
            }
            print("model `\(model)` (\(m.family.rawValue), \(m.config.fps) fps), audio `\(audio)` (\(String(format: "%.2f", Double(speech.count) / 16000)) s), hop \(hop) ms, \(threads) BLAS thread(s)\n")
            print("| lookahead ms | left context ms | max abs diff / max abs offline | RMS diff / RMS offline | mean latency ms | CPU ms per frame | state KiB |")
            print("|---|---|---|---|---|---|---|")
            for look in looks {
                for left in lefts {
                    var p = StreamParams()
                    p.lookaheadMs = look
                    p.leftContextMs = left
                    p.hopMs = hop
                    let engine = try StreamEngine(model: m, params: p, style: s)
                    let run = try pushInTenMsChunks(speech, through: engine, outputSize: m.outputSize)
                    let diff = Difference(streamed: run.frames, offline: offline)
                    print(String(format: "| %d | %d | %.3f | %.3f | %.0f | %.2f | %d |", look, left, diff.maxRelative, diff.rmsRelative,
                                 1000 * run.meanLatency, 1000 * run.cpuPerFrame, engine.byteCount / 1024))
                    diff.noteFrameCount(run.count, offline: offline.rows)
                }
            }
        }
    }
}

extension StreamEval {
    /// A real-time-encoder model streams with its own lookahead (the grid's params do not apply):
    /// one row, with the encoder's and the decoder's CPU time per frame apart.
    func realtimeRow(_ m: MimeticModel, speech: [Float], style s: [Float], offline: Matrix, delay: Double) throws {
        print("model `\(model)` (\(m.family.rawValue), \(m.config.fps) fps, realtime encoder: lookahead \(String(format: "%.1f", (m.realtimeLookaheadSamples ?? 0) / 16)) ms), audio `\(audio)` (\(String(format: "%.2f", Double(speech.count) / 16000)) s), pushed in 10 ms chunks, every frame pulled as soon as ready, \(threads) BLAS thread(s)\n")
        print("| frames | max abs diff / max abs offline | RMS diff / RMS offline | mean latency ms | stream delay ms | CPU ms per frame | encoder ms per frame | decoder ms per frame | state KiB |")
        print("|---|---|---|---|---|---|---|---|---|")
        let engine = try StreamEngine(model: m, params: StreamParams(), style: s)
        let run = try pushInTenMsChunks(speech, through: engine, outputSize: m.outputSize)
        let diff = Difference(streamed: run.frames, offline: offline)
        let st = engine.stats
        let per = 1000 / Double(max(run.count, 1))
        print(String(format: "| %d | %.1e | %.1e | %.1f | %.1f | %.3f | %.3f | %.3f | %d |", run.count, diff.maxRelative, diff.rmsRelative,
                     1000 * run.meanLatency, delay / 16, 1000 * run.cpuPerFrame, st.encoderSeconds * per, st.decoderSeconds * per, engine.byteCount / 1024))
        diff.noteFrameCount(run.count, offline: offline.rows)
    }

    /// Pushes the speech in 10 ms chunks as an engine would, pulling every frame as soon as it is
    /// ready, then flushes; CPU time is the calling thread's.
    func pushInTenMsChunks(_ speech: [Float], through engine: StreamEngine, outputSize: Int) throws
        -> (frames: [Float], count: Int, meanLatency: Double, cpuPerFrame: Double) {
        var frames: [Float] = []
        var latency = 0.0
        var out = [Float](repeating: 0, count: outputSize)
        func drain() throws {
            while let info = try out.withUnsafeMutableBufferPointer({ try engine.pull(into: $0.baseAddress!, capacity: $0.count) }) {
                frames += out
                latency += info.latencySeconds
            }
        }
        let cpu0 = threadCPU()
        var i = 0
        while i < speech.count {
            let n = min(160, speech.count - i)
            try speech.withUnsafeBufferPointer { try engine.push($0.baseAddress! + i, count: n) }
            i += n
            try drain()
        }
        try engine.flush()
        try drain()
        let cpu = threadCPU() - cpu0
        let count = frames.count / outputSize
        return (frames, count, latency / Double(max(count, 1)), cpu / Double(max(count, 1)))
    }
}

/// Streamed vs offline frames: the largest difference relative to the largest offline value, and the
/// RMS difference relative to the offline RMS (over the frames both have).
struct Difference {
    var maxRelative: Float
    var rmsRelative: Double

    init(streamed: [Float], offline: Matrix) {
        var maxDiff: Float = 0, scale: Float = 0, sq = 0.0, ref = 0.0
        for v in offline.data { scale = max(scale, abs(v)); ref += Double(v) * Double(v) }
        let n = min(streamed.count, offline.count)
        for j in 0..<n {
            let d = streamed[j] - offline.data[j]
            maxDiff = max(maxDiff, abs(d))
            sq += Double(d) * Double(d)
        }
        maxRelative = maxDiff / max(scale, 1e-30)
        rmsRelative = (sq / Double(max(n, 1))).squareRoot() / max((ref / Double(max(offline.count, 1))).squareRoot(), 1e-30)
    }

    func noteFrameCount(_ count: Int, offline rows: Int) {
        if count != rows { print("(frame count \(count) differs from offline \(rows))") }
    }
}

func threadCPU() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}
