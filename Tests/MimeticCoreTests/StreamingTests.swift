import Foundation
import XCTest
@testable import MimeticCore

/// The streaming engine against the offline path, on the golden fixture models.
final class StreamingTests: XCTestCase {
    static let families = ["faceformer_vocaset", "faceformer_biwi", "imitator_zeros", "imitator_style", "mimic_conv", "mimic_interp", "wav2vec2_layer",
                           "realtime_imitator", "realtime_faceformer"]
    static let realtime = ["realtime_imitator", "realtime_faceformer"]

    struct Case {
        let model: MimeticModel
        let audio: [Float]
        let style: [Float]
        let expected: [String: Matrix]
    }

    func load(_ name: String) throws -> Case {
        let model = try MimeticModel(path: Fixtures.path("\(name).model.safetensors"))
        let (expected, meta) = try Fixtures.tensors("\(name).expected.safetensors")
        let input: StyleInput = model.family == .mimic ? .motion(expected["style_offsets"]!) : .slot(Int(meta["style_index"] ?? "0")!)
        return Case(model: model, audio: expected["audio"]!.data, style: try model.styleVector(input), expected: expected)
    }

    /// Streams `audio` in chunks of the given sizes (cycled), pulling every few pushes, then
    /// flushes and pulls the rest.
    func stream(_ c: Case, params: StreamParams, chunks: [Int], prepare: ((StreamEngine) -> Void)? = nil) throws -> (Matrix, [StreamFrameInfo]) {
        let engine = try StreamEngine(model: c.model, params: params, style: c.style)
        prepare?(engine)
        var frames: [Float] = []
        var infos: [StreamFrameInfo] = []
        var out = [Float](repeating: 0, count: c.model.outputSize)
        func drain() throws {
            while let info = try out.withUnsafeMutableBufferPointer({ try engine.pull(into: $0.baseAddress!, capacity: $0.count) }) {
                frames += out
                infos.append(info)
            }
        }
        var i = 0, n = 0
        while i < c.audio.count {
            let m = min(chunks[n % chunks.count], c.audio.count - i)
            try c.audio.withUnsafeBufferPointer { try engine.push($0.baseAddress! + i, count: m) }
            i += m
            n += 1
            if n % 3 == 0 { try drain() }
        }
        try engine.flush()
        try drain()
        return (Matrix(rows: infos.count, cols: c.model.outputSize, data: frames), infos)
    }

    func testFrameCountsFinalFlagAndChunkInvariance() throws {
        for name in Self.families {
            let c = try load(name)
            let (a, infos) = try stream(c, params: StreamParams(), chunks: [160])
            let (b, _) = try stream(c, params: StreamParams(), chunks: [1, 7, 333, 1000, 2])
            XCTAssertEqual(a.rows, c.expected["offsets"]!.rows, "\(name): frame count differs from offline")
            XCTAssertTrue(a.data == b.data, "\(name): push chunking changed the output (max diff \(Fixtures.relativeError(a, b)))")
            XCTAssertTrue(a.data.allSatisfy { $0.isFinite }, "\(name): non-finite output")
            XCTAssertEqual(infos.map(\.frameIndex), Array(0..<infos.count))
            if Self.realtime.contains(name) {
                // A real-time stream may emit the last frame before the flush (its lookahead was
                // in); it is marked final only if it was still queued then.
                XCTAssertTrue(infos.filter(\.isFinal).map(\.frameIndex).allSatisfy { $0 == infos.count - 1 })
            } else {
                XCTAssertEqual(infos.filter(\.isFinal).map(\.frameIndex), [infos.count - 1])
            }
        }
    }

    /// With the whole utterance in context and the offline normalisation statistics, the
    /// incremental CNN, the encoder windows and the decoder must reproduce offline animation
    /// (alignments that need no resampling grid: BIWI pairs and Mimic's conv).
    /// Offline and streaming frame counts come from one formula (`FrameAlignment.motionFrames`);
    /// this pins them together for every alignment mode over lengths that hit odd and even CNN
    /// frame counts and the interpolation's rounding (the `.native` mode used to disagree).
    func testStreamedFrameCountEqualsOfflineForEveryLength() throws {
        for name in Self.families {
            let c = try load(name)
            let m = c.model
            var lengths = [m.minimumSamples, m.minimumSamples + 1]
            for k in [1, 2, 3, 7, 11, 50] { lengths += [m.minimumSamples + 320 * k, m.minimumSamples + 320 * k + 319] }
            for n in lengths {
                var audio = [Float](repeating: 0, count: n)
                for i in 0..<n { audio[i] = c.audio[i % c.audio.count] }
                let (frames, _) = try stream(Case(model: m, audio: audio, style: c.style, expected: c.expected), params: StreamParams(), chunks: [480])
                XCTAssertEqual(frames.rows, m.frameCount(samples: n), "\(name), \(n) samples: streamed frames vs offline count")
                if m.frameCount(samples: n) > 0 {
                    XCTAssertEqual(try m.animate(audio: audio, style: .code(c.style)).frames, m.frameCount(samples: n), "\(name), \(n) samples")
                }
            }
        }
        // The native rate (the real-time encoder): one motion frame per encoder row, offline and streaming.
        let native = try load("realtime_imitator").model.alignment
        XCTAssertEqual(native.name, "native")
        for l in 0..<64 { XCTAssertEqual(native.motionFrames(cnnFrames: l), l) }
    }

    func testWholeContextStreamingEqualsOffline() throws {
        for name in ["faceformer_biwi", "mimic_conv"] {
            let c = try load(name)
            let enc = c.model.wav2vec!
            let n = Double(c.audio.count)
            let mean = c.audio.reduce(0.0) { $0 + Double($1) } / n
            let variance = c.audio.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
            let normalized = Wav2Vec2Encoder.normalize(c.audio, eps: enc.config.input_norm_eps)
            let conv0 = enc.convLayers[0].conv(Matrix(rows: normalized.count, cols: 1, data: normalized))
            var means = [Double](repeating: 0, count: conv0.cols), vars = means
            for ch in 0..<conv0.cols {
                var s = 0.0
                for r in 0..<conv0.rows { s += Double(conv0[r, ch]) }
                means[ch] = s / Double(conv0.rows)
                var v = 0.0
                for r in 0..<conv0.rows { let d = Double(conv0[r, ch]) - means[ch]; v += d * d }
                vars[ch] = v / Double(conv0.rows)
            }
            var params = StreamParams()
            params.lookaheadMs = 2000
            params.leftContextMs = 10_000
            let (streamed, _) = try stream(c, params: params, chunks: [480]) {
                $0.freezeStatistics(inputMean: mean, inputVariance: variance, channelMeans: means, channelVariances: vars)
            }
            // Streams start from rest (Mimic's initial state zero, as the original demo's first window).
            let offline = try c.model.animate(audio: c.audio, style: .code(c.style))
            let err = Fixtures.relativeError(streamed, offline.offsets)
            print("whole-context stream vs offline \(name): \(err)")
            XCTAssertLessThanOrEqual(err, 1e-4, name)
        }
    }

    /// The real-time encoder streams exactly: pushed in odd chunk sizes, a stream gives offline
    /// animation (same frame count, ≤ 1e-5 relative; the only difference is float rounding of
    /// one-row products against whole-utterance ones).
    func testRealtimeStreamingEqualsOffline() throws {
        for name in Self.realtime {
            let c = try load(name)
            let offline = try c.model.animate(audio: c.audio, style: .code(c.style)).offsets
            for chunks in [[1, 7, 333, 1000, 2], [160], [c.audio.count]] {
                let (streamed, infos) = try stream(c, params: StreamParams(), chunks: chunks)
                XCTAssertEqual(streamed.rows, offline.rows, "\(name): frame count")
                guard streamed.rows == offline.rows else { continue }
                let err = Fixtures.relativeError(streamed, offline)
                print("realtime stream vs offline \(name) chunks \(chunks.count == 1 ? "\(chunks[0])" : "odd"): \(err)")
                XCTAssertLessThanOrEqual(err, 1e-5, name)
                XCTAssertEqual(infos.map(\.frameIndex), Array(0..<offline.rows))
                if chunks == [c.audio.count] {   // nothing pulled before the flush: the last frame is marked
                    XCTAssertEqual(infos.filter(\.isFinal).map(\.frameIndex), [offline.rows - 1], name)
                }
            }
            // And the reference's vertices (PyTorch, offline) within the parity tolerance.
            let (streamed, _) = try stream(c, params: StreamParams(), chunks: [441])
            XCTAssertLessThanOrEqual(Fixtures.relativeError(streamed, c.expected["offsets"]!), ParityTests.tolerance, name)
        }
    }

    /// A real-time stream computes frame t as soon as its interval is complete and the audio its
    /// lookahead needs has arrived, not later; the stream's latency says how long that is.
    func testRealtimeFramesComeAsSoonAsTheirAudio() throws {
        for name in Self.realtime {
            let c = try load(name)
            let rt = c.model.realtime!
            let engine = try StreamEngine(model: c.model, params: StreamParams(), style: c.style)
            var out = [Float](repeating: 0, count: c.model.outputSize)
            var got = 0
            var pushed = 0
            var worst = 0.0
            while pushed < c.audio.count {
                let m = min(37, c.audio.count - pushed)
                try c.audio.withUnsafeBufferPointer { try engine.push($0.baseAddress! + pushed, count: m) }
                pushed += m
                let before = got
                while try out.withUnsafeMutableBufferPointer({ try engine.pull(into: $0.baseAddress!, capacity: $0.count) }) != nil { got += 1 }
                var ready = 0
                while ready < rt.frames(samples: pushed), (ready + 1) * 16000 <= pushed * rt.fps, rt.samplesNeeded(frame: ready) <= pushed { ready += 1 }
                XCTAssertEqual(got, ready, "\(name): \(pushed) samples pushed")
                // The newest frame was not ready one push earlier: its delay exceeded what had been pushed then.
                if got > before { worst = max(worst, Double(pushed - m) - Double((got - 1) * 16000) / Double(rt.fps)) }
            }
            XCTAssertLessThanOrEqual(worst, rt.streamDelaySamples + 1, name)
            XCTAssertEqual(engine.algorithmicLatency, rt.streamDelaySamples / 16000, accuracy: 1e-12)
            print("realtime \(name): lookahead \(rt.lookaheadSamples / 16) ms, stream delay \(rt.streamDelaySamples / 16) ms, state \(engine.byteCount / 1024) KiB")
        }
        // The 30 fps fixture has the default layout's lookahead: window centre + two mel frames.
        let rt = try load("realtime_imitator").model.realtime!
        XCTAssertEqual(rt.lookaheadSamples, 200 + 2 * 16000.0 / 90, accuracy: 1)
        XCTAssertLessThanOrEqual(rt.streamDelaySamples, 800)   // ≤ 50 ms
    }

    /// Pulls every ready frame.
    func drain(_ engine: StreamEngine) throws -> [Float] {
        var out = [Float](repeating: 0, count: engine.layout.outputSize)
        var all: [Float] = []
        while try out.withUnsafeMutableBufferPointer({ try engine.pull(into: $0.baseAddress!, capacity: $0.count) }) != nil { all += out }
        return all
    }

    /// Streams `split` samples, pulls one frame and snapshots; then the rest of the utterance is
    /// streamed twice, the second time after restoring the snapshot.
    func continuationsFromSnapshot(_ c: Case, split: Int) throws -> (engine: StreamEngine, first: [Float], second: [Float]) {
        let engine = try StreamEngine(model: c.model, params: StreamParams(), style: c.style)
        try c.audio.withUnsafeBufferPointer { try engine.push($0.baseAddress!, count: split) }
        var out = [Float](repeating: 0, count: c.model.outputSize)
        _ = try out.withUnsafeMutableBufferPointer { try engine.pull(into: $0.baseAddress!, capacity: $0.count) }
        var snapshot = [UInt8](repeating: 0, count: engine.byteCount)
        try snapshot.withUnsafeMutableBytes { try engine.snapshot(into: $0.baseAddress!, capacity: $0.count) }
        func rest() throws -> [Float] {
            try c.audio.withUnsafeBufferPointer { try engine.push($0.baseAddress! + split, count: c.audio.count - split) }
            try engine.flush()
            return try drain(engine)
        }
        let first = try rest()
        try snapshot.withUnsafeBytes { try engine.restore(from: $0.baseAddress!, size: $0.count) }
        return (engine, first, try rest())
    }

    func testRealtimeSnapshotRestoreAndReset() throws {
        let c = try load("realtime_faceformer")
        let (engine, first, second) = try continuationsFromSnapshot(c, split: c.audio.count / 2 + 17)
        XCTAssertEqual(second, first)
        // After a reset the stream starts over: the whole utterance again equals a fresh stream.
        engine.reset()
        try c.audio.withUnsafeBufferPointer { try engine.push($0.baseAddress!, count: $0.count) }
        try engine.flush()
        let again = try drain(engine)
        let (fresh, _) = try stream(c, params: StreamParams(), chunks: [c.audio.count])
        XCTAssertEqual(again, fresh.data)
    }

    /// Given identical audio features, the decoder a stream runs (per-frame output projection)
    /// equals the offline one (batched projection).
    func testDecoderMatchesOfflineGivenSameFeatures() throws {
        for name in Self.families {
            let c = try load(name)
            let feats = try c.model.audioFeatures(c.audio)
            let offline = try c.model.decode(feats, styleVector: c.style)
            let fd = c.model.frameDecoder
            let state = FloatStorage(count: fd.layout.floats)
            c.style.withUnsafeBufferPointer { fd.begin(state.pointer, style: $0.baseAddress!, initialOffsets: nil) }
            var out = Matrix(zeros: feats.frames, c.model.outputSize)
            let d = c.model.config.decoder.d_model, k = feats.keysPerFrame
            feats.features.data.withUnsafeBufferPointer { fp in
                out.data.withUnsafeMutableBufferPointer { op in
                    for t in 0..<feats.frames {
                        fd.decode(state.pointer, position: t, audio: fp.baseAddress! + t * k * d, offsets: op.baseAddress! + t * c.model.outputSize)
                    }
                }
            }
            let err = Fixtures.relativeError(out, offline.offsets)
            XCTAssertLessThanOrEqual(err, 1e-5, "\(name): streaming decoder vs offline \(err)")
        }
    }

    func testSnapshotRestoreReproducesTheFuture() throws {
        let c = try load("faceformer_vocaset")
        let (_, first, second) = try continuationsFromSnapshot(c, split: c.audio.count / 2)
        XCTAssertFalse(first.isEmpty)
        XCTAssertEqual(first, second)
    }

    func testStyleChangeAtRunTimeChangesLaterFrames() throws {
        let c = try load("faceformer_vocaset")
        let other = try c.model.styleVector(.slot(2))
        let (a, _) = try stream(c, params: StreamParams(), chunks: [800])
        let (b, _) = try stream(c, params: StreamParams(), chunks: [800]) { e in
            _ = try? other.withUnsafeBufferPointer { try e.setStyle($0.baseAddress!, count: $0.count) }
        }
        XCTAssertGreaterThan(Fixtures.relativeError(a, b), 1e-3)
    }

    func testBadInput() throws {
        let c = try load("faceformer_vocaset")
        var p = StreamParams()
        p.sampleRate = 4000
        XCTAssertThrowsError(try StreamEngine(model: c.model, params: p, style: c.style)) { XCTAssertTrue("\($0)".contains("8000...48000")) }
        p = StreamParams(); p.lookaheadMs = 5000
        XCTAssertThrowsError(try StreamEngine(model: c.model, params: p, style: c.style))
        XCTAssertThrowsError(try StreamEngine(model: c.model, params: StreamParams(), style: [1, 2]))
        let engine = try StreamEngine(model: c.model, params: StreamParams(), style: c.style)
        var out = [Float](repeating: 0, count: c.model.outputSize)
        XCTAssertNil(try out.withUnsafeMutableBufferPointer { try engine.pull(into: $0.baseAddress!, capacity: $0.count) })
        XCTAssertThrowsError(try out.withUnsafeMutableBufferPointer { try engine.pull(into: $0.baseAddress!, capacity: 3) }) {
            XCTAssertTrue("\($0)".contains("\(c.model.outputSize)"))
        }
        // NaN/Inf/huge samples are repaired (default policy) and never reach the output.
        var noisy = Array(c.audio.prefix(16000))
        noisy[100] = .nan; noisy[200] = .infinity; noisy[300] = 1e30
        try noisy.withUnsafeBufferPointer { try engine.push($0.baseAddress!, count: $0.count) }
        try engine.flush()
        var frames = 0
        while let _ = try out.withUnsafeMutableBufferPointer({ try engine.pull(into: $0.baseAddress!, capacity: $0.count) }) {
            XCTAssertTrue(out.allSatisfy { $0.isFinite })
            frames += 1
        }
        XCTAssertGreaterThan(frames, 0)
        XCTAssertEqual(engine.stats.samplesRepaired, 3)
        XCTAssertThrowsError(try noisy.withUnsafeBufferPointer { try engine.push($0.baseAddress!, count: 10) }) {
            guard case MimeticError.wrongState = $0 else { return XCTFail("\($0)") }
        }
        p = StreamParams(); p.samplePolicy = .reject
        let strict = try StreamEngine(model: c.model, params: p, style: c.style)
        XCTAssertThrowsError(try noisy.withUnsafeBufferPointer { try strict.push($0.baseAddress!, count: $0.count) })
        XCTAssertEqual(strict.stats.samplesPushed, 0)
    }
}
