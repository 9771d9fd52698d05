import MimeticCore

// Fuzz entry points over the core's readers and every path a loaded model runs, built only by
// `make fuzz` (instrumented, with AddressSanitizer) and driven by the libFuzzer harnesses in
// Tests/Fuzz. Each takes untrusted bytes; a thrown error is the right answer to bad input, a
// trap or a sanitizer report is a finding. Returns 0 (libFuzzer's convention).

private func bytes(_ p: UnsafePointer<UInt8>?, _ n: Int) -> UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(start: p.map(UnsafeRawPointer.init), count: p == nil ? 0 : n)
}

/// A short deterministic "voice" for the model paths.
private let speech: [Float] = (0..<8000).map { i in 0.3 * sinf(Float(i) * 0.07) * sinf(Float(i) * 0.0011) }

/// Traps when a path answered a valid input with non-finite output (the library promises never NaN out).
private func requireFinite(_ x: [Float], _ what: String) {
    if let i = x.firstIndex(where: { !$0.isFinite }) { fatalError("\(what): value \(i) is \(x[i])") }
}

@_cdecl("mimetic_fuzz_wav")
public func mimetic_fuzz_wav(_ p: UnsafePointer<UInt8>?, _ n: Int) -> Int32 {
    guard let audio = try? readWAV(data: bytes(p, n), name: "fuzz") else { return 0 }
    // What the CLI does next: mono samples to the encoder's rate.
    if audio.sampleRate != 16000, StreamingResampler.supportedRates.contains(audio.sampleRate), audio.samples.count < 1 << 20 {
        _ = resample(audio.samples, from: audio.sampleRate, to: 16000)
    }
    return 0
}

@_cdecl("mimetic_fuzz_npy")
public func mimetic_fuzz_npy(_ p: UnsafePointer<UInt8>?, _ n: Int) -> Int32 {
    if let (data, shape) = try? readNPY(bytes: bytes(p, n), name: "fuzz") {
        precondition(shape.reduce(1, *) == data.count, "NPY: shape \(shape) for \(data.count) values")
    }
    return 0
}

private nonisolated(unsafe) var namedModel: MimeticModel?

/// The model named by MIMETIC_FUZZ_MODEL, loaded once per fuzzing process (each harness is its own process).
private func fuzzModel() -> MimeticModel {
    if let m = namedModel { return m }
    guard let variable = getenv("MIMETIC_FUZZ_MODEL") else { fatalError("set MIMETIC_FUZZ_MODEL") }
    let m = try! MimeticModel(path: String(cString: variable))
    namedModel = m
    return m
}

/// A persona file for the model named by MIMETIC_FUZZ_MODEL.
@_cdecl("mimetic_fuzz_persona")
public func mimetic_fuzz_persona(_ p: UnsafePointer<UInt8>?, _ n: Int) -> Int32 {
    let model = fuzzModel()
    guard let store = try? TensorStore(bytes: bytes(p, n)), let persona = try? Persona.load(store: store, for: model) else { return 0 }
    requireFinite(persona.style, "persona style")
    // A loaded persona must drive a stream and an offline run.
    var params = StreamParams()
    params.reserveBasisDelta = persona.basisWeightDelta != nil
    if let s = try? StreamEngine(model: model, params: params, style: persona.style) {
        try! s.setPersona(persona)
    }
    if let a = try? model.animate(audio: speech, persona: persona) { requireFinite(a.offsets.data, "animate with persona") }
    return 0
}

/// A model file: if it loads, every path runs on it without trapping and gives finite output.
@_cdecl("mimetic_fuzz_model")
public func mimetic_fuzz_model(_ p: UnsafePointer<UInt8>?, _ n: Int) -> Int32 {
    guard let store = try? TensorStore(bytes: bytes(p, n)), let model = try? MimeticModel(store: store) else { return 0 }
    // Keep each run cheap: the fuzzer should spend its time on loading and validation.
    guard model.outputSize <= 1 << 16, model.config.decoder.d_model <= 1024 else { return 0 }
    let style: [Float]
    if model.family == .mimic && model.styleSlots == 0 {
        let motion = Matrix(rows: 12, cols: model.outputSize, data: (0..<(12 * model.outputSize)).map { Float($0 % 7) * 1e-3 })
        guard let code = try? model.styleCode(fromMotion: motion) else { return 0 }
        requireFinite(code, "style from motion")
        style = code
    } else {
        guard let s = try? model.styleVector(.slot(0)) else { return 0 }
        style = s
    }
    // Offline.
    if let a = try? model.animate(audio: speech, style: .code(style)) { requireFinite(a.offsets.data, "animate") }
    // A stream, 10 ms at a time, then flushed.
    if let s = try? StreamEngine(model: model, params: StreamParams(), style: style) {
        var out = [Float](repeating: 0, count: model.outputSize)
        speech.withUnsafeBufferPointer { sp in
            var i = 0
            while i < sp.count {
                let m = min(160, sp.count - i)
                guard (try? s.push(sp.baseAddress! + i, count: m)) != nil else { break }
                i += m
                while let _ = try? out.withUnsafeMutableBufferPointer({ try s.pull(into: $0.baseAddress!, capacity: $0.count) }) {
                    requireFinite(out, "stream frame")
                }
            }
        }
        try? s.flush()
        while let _ = try? out.withUnsafeMutableBufferPointer({ try s.pull(into: $0.baseAddress!, capacity: $0.count) }) { requireFinite(out, "stream frame") }
    }
    // Personalization, a few steps.
    if model.family == .imitator, model.frameCount(samples: speech.count) > 2 {
        let frames = model.frameCount(samples: speech.count)
        let clip = ReferenceClip(audio: speech, offsets: Matrix(rows: frames, cols: model.outputSize,
                                                                data: (0..<(frames * model.outputSize)).map { Float($0 % 5) * 1e-3 }))
        var options = AdaptationOptions()
        options.styleSteps = 2
        options.basisSteps = 2
        if let persona = try? ImitatorAdaptation.adapt(model: model, clips: [clip, clip], options: options) { requireFinite(persona.style, "adapted style") }
    }
    return 0
}

/// Text files a user hands over: a Live Link Face CSV (first byte even) or a phone-label file (odd),
/// then what the library does with each: the take resampled at 30 fps (with an offset from the
/// input) and its offset estimate against a prediction; the labels' m/b/p spans turned into closure
/// events on the model named by MIMETIC_FUZZ_MODEL.
@_cdecl("mimetic_fuzz_text")
public func mimetic_fuzz_text(_ p: UnsafePointer<UInt8>?, _ n: Int) -> Int32 {
    guard n > 1, let p else { return 0 }
    guard let text = String(validating: UnsafeBufferPointer(start: p + 1, count: n - 1), as: UTF8.self) else { return 0 }
    if p[0] % 2 == 0 {
        guard let take = try? LiveLinkTake(csv: text, source: "fuzz") else { return 0 }
        let names = Array(take.columns.prefix(8))
        let frames = Int(p[0] / 2) % 90 + 1
        let offset = Double(Int(p[0]) - 128) / 64
        guard let w = try? take.weights(names: names, fps: 30, frames: frames, offset: offset) else { return 0 }
        requireFinite(w, "take weights")
        if let lag = take.estimateOffset(predicted: w.reversed(), names: names, fps: 30), !lag.isFinite { fatalError("offset estimate \(lag)") }
    } else {
        guard let labels = try? PhoneLabels(text: text, source: "fuzz") else { return 0 }
        let model = fuzzModel()
        let frames = Int(p[0] / 2) % 120 + 1
        let offsets = Matrix(rows: frames, cols: model.outputSize,
                             data: (0..<(frames * model.outputSize)).map { 0.001 * sinf(Float($0 % 977) * 0.01) })
        if let events = try? model.closureEvents(offsets, phones: labels.bilabial) {
            precondition(events.allSatisfy { (0..<frames).contains($0) }, "closure event outside the clip: \(events)")
            precondition(events == events.sorted() && Set(events).count == events.count, "closure events not increasing: \(events)")
        }
    }
    return 0
}
