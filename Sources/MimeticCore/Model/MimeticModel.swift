
/// A loaded speech-to-face model: immutable after loading, so any number of threads may run it.
///
/// The forward pass, top to bottom (Audio → Alignment → Encoder → Decoder → Motion):
///   samples ─ z-norm ─ CNN (50 Hz) ─ align to the motion rate ─ projection ─ transformer
///   ─ audio map ─ autoregressive decoder (one step per frame) ─ family head ─ vertex offsets
public final class MimeticModel: @unchecked Sendable {
    public let config: ModelConfig
    public let store: TensorStore
    /// Neutral mesh, 3V floats (metres), when the file carries one.
    public let template: [Float]?
    public let triangles: [Int32]?
    public let lipVertices: [Int32]?
    /// Inner-lip vertex pairs (upper[i] faces lower[i]): where the lips meet when they close.
    public let lipPairs: (upper: [Int32], lower: [Int32])?

    /// The audio encoder: wav2vec 2.0 or the real-time encoder (exactly one is set).
    let wav2vec: Wav2Vec2Encoder?
    let realtime: RealtimeEncoder?
    let downsample: Conv1d?
    let audioMap: Linear
    let decoder: AutoregressiveDecoder
    let head: Head
    let frameDecoder: FrameDecoder
    /// Identifies these weights (persona files record it): see `fingerprint(of:)`.
    public let fingerprint: String
    /// How the encoder's frames meet motion frames (every per-mode formula lives there).
    let alignment: FrameAlignment
    /// Audio-feature rows per motion frame (two for BIWI's "pairs" alignment).
    var keysPerFrame: Int { alignment.featureRowsPerFrame }
    /// How model files name this alignment ("interpolate", "pairs", "conv", "native").
    public var alignmentName: String { alignment.name }

    enum Head {
        case faceformer(FaceFormerHead)
        case imitator(ImitatorHead)
        case mimic(MimicHead)
    }

    public convenience init(path: String) throws {
        try self.init(store: TensorStore(path: path))
    }

    public init(store: TensorStore) throws {
        self.store = store
        let src = store.source
        guard let format = store.metadata["mimetic.format"] else {
            throw MimeticError.invalidModel("\(src): no 'mimetic.format' metadata: this is a safetensors file but not a Mimetic model (convert checkpoints with tools/convert.py)")
        }
        guard format == "1" else {
            throw MimeticError.unsupported("\(src): model format version \(format); this runtime reads version 1")
        }
        guard let json = store.metadata["mimetic.config"] else {
            throw MimeticError.invalidModel("\(src): no 'mimetic.config' metadata")
        }
        let c = try ModelConfig.decode(json: json, source: src)
        config = c
        try store.validateAllFinite()
        switch c.encoder {
        case .wav2vec2(let e):
            wav2vec = try Wav2Vec2Encoder(store, config: e)
            realtime = nil
        case .realtime(let r):
            wav2vec = nil
            realtime = try RealtimeEncoder(store, config: r, fps: c.fps)
        }
        let hidden = c.encoder.hiddenSize
        alignment = FrameAlignment(c)
        downsample = alignment.downsamples
            ? try Conv1d(store, "encoder.downsample", in: hidden, out: hidden, kernel: FrameAlignment.downsampleKernel,
                         stride: FrameAlignment.downsampleStride, padding: FrameAlignment.downsamplePadding, bias: true)
            : nil
        audioMap = try Linear(store, "audio_map", in: hidden, out: c.decoder.d_model)
        decoder = try AutoregressiveDecoder(store, config: c.decoder)
        switch c.family {
        case .faceformer: head = .faceformer(try FaceFormerHead(store, config: c))
        case .imitator: head = .imitator(try ImitatorHead(store, config: c))
        case .mimic: head = .mimic(try MimicHead(store, config: c))
        }
        // Real-time-encoder models stream cheaply enough for many characters a core: their motion basis
        // gets the input-major copy the per-frame and batched products read (WideLinear).
        frameDecoder = FrameDecoder(decoder: decoder, head: head, keysPerFrame: alignment.featureRowsPerFrame, outputSize: c.outputSize,
                                    wideBasis: realtime != nil)
        fingerprint = Self.fingerprint(of: store)
        template = try store.optionalWeight("template", shape: [c.num_vertices, 3])?.toArray()
        /// An optional I32 asset of vertex indices: its shape checked by `valid` (described by `form`)
        /// and every index inside the mesh.
        func vertexIndices(_ name: String, _ form: String, _ valid: ([Int]) -> Bool) throws -> (values: [Int32], shape: [Int])? {
            guard let (values, shape) = try store.int32s(name) else { return nil }
            guard valid(shape) else { throw MimeticError.invalidModel("\(src): '\(name)' must be \(form), found \(shape)") }
            if let bad = values.first(where: { $0 < 0 || Int($0) >= c.num_vertices }) {
                throw MimeticError.invalidModel("\(src): '\(name)' references vertex \(bad); the mesh has \(c.num_vertices)")
            }
            return (values, shape)
        }
        triangles = try vertexIndices("triangles", "[F, 3]") { $0.count == 2 && $0[1] == 3 }?.values
        lipVertices = try vertexIndices("lip_vertices", "1-D") { $0.count == 1 }?.values
        lipPairs = try vertexIndices("lip_pairs", "[2, k] (upper row, lower row)") { $0.count == 2 && $0[0] == 2 && $0[1] > 0 }
            .map { (Array($0.values[0..<$0.shape[1]]), Array($0.values[$0.shape[1]...])) }
    }

    public var family: ModelConfig.Family { config.family }
    public var outputSize: Int { config.outputSize }
    public var styleNames: [String] { config.styleNames }
    /// The fewest 16 kHz samples that make one motion frame.
    public var minimumSamples: Int { wav2vec?.minimumSamples ?? realtime!.minimumSamples }

    /// Motion frames an utterance of `n` samples (16 kHz) makes.
    public func frameCount(samples n: Int) -> Int {
        if let rt = realtime { return alignment.motionFrames(cnnFrames: rt.frames(samples: n)) }
        return alignment.motionFrames(cnnFrames: wav2vec!.cnnFrames(samples: n))
    }

    /// The audio a stream of this model needs beyond a frame's time before it can compute the
    /// frame, at 16 kHz, for the real-time encoder (nil for wav2vec 2.0, whose streams use the
    /// lookahead and hop they are given).
    public var realtimeDelaySamples: Double? { realtime?.streamDelaySamples }
    /// The real-time encoder's lookahead: audio a frame's features depend on beyond its time, at 16 kHz.
    public var realtimeLookaheadSamples: Double? { realtime?.lookaheadSamples }
    /// Parameters of the audio encoder (its `encoder.*` tensors and the audio map).
    public var encoderParameterCount: Int {
        store.tensorNames.filter { $0.hasPrefix("encoder.") || $0.hasPrefix("audio_map.") }.reduce(0) { $0 + (store.shape(of: $1)?.reduce(1, *) ?? 0) }
    }

    // MARK: Audio → features

    /// Audio features for the decoder and the number of motion frames they drive.
    public struct AudioFeatures {
        public let features: Matrix      // [Ta, d]
        public let frames: Int
        public let keysPerFrame: Int
    }

    /// `audio`: mono samples at 16 kHz, any scale (the encoder normalises each utterance).
    public func audioFeatures(_ audio: [Float], recorder: StageRecorder? = nil, timer: StageTimer? = nil,
                              progress: ((Int, Int) -> Void)? = nil) throws -> AudioFeatures {
        guard !audio.isEmpty else { throw MimeticError.invalidAudio("no samples") }
        if let i = audio.firstIndex(where: { !$0.isFinite }) {
            throw MimeticError.invalidAudio("sample \(i) is \(audio[i]) (NaN or Inf)")
        }
        guard audio.count >= minimumSamples else {
            throw MimeticError.invalidAudio("\(audio.count) samples is too short: the encoder needs at least \(minimumSamples) (\(minimumSamples * 1000 / config.sample_rate) ms at \(config.sample_rate) Hz)")
        }
        if let rt = realtime {
            var clock = timer?.start()
            let hidden = rt.features(audio, recorder: recorder, timer: timer)
            clock = timer?.start()
            let features = audioMap(hidden)
            recorder?.record("audio_features", features)
            timer?.lap("audio_map", &clock)
            progress?(1, 1)
            return AudioFeatures(features: features, frames: features.rows, keysPerFrame: 1)
        }
        let encoder = wav2vec!
        var clock = timer?.start()
        let normalized = Wav2Vec2Encoder.normalize(audio, eps: encoder.config.input_norm_eps)
        recorder?.record("audio_normalized", Matrix(rows: normalized.count, cols: 1, data: normalized))
        let cnn = encoder.cnn(normalized)
        recorder?.record("cnn", cnn)
        timer?.lap("cnn", &clock)
        let aligned = try alignment.align(cnn, samples: audio.count)
        recorder?.record("aligned", aligned)
        var hidden = encoder.transform(encoder.project(aligned), progress: progress)
        recorder?.record("encoder", hidden)
        timer?.lap("transformer", &clock)
        if let ds = downsample { hidden = ds(hidden) }
        let features = audioMap(hidden)
        recorder?.record("audio_features", features)
        timer?.lap("audio_map", &clock)
        return AudioFeatures(features: features, frames: features.rows / keysPerFrame, keysPerFrame: keysPerFrame)
    }

    // MARK: Animation

    /// Offline animation of a whole utterance.
    /// - Parameters:
    ///   - audio: mono 16 kHz samples.
    ///   - initialOffsets: Mimic's initial state (3V offsets of the frame before the first); zeros if nil.
    ///   - progress: fraction done, 0...1.
    public func animate(audio: [Float], style: StyleInput, initialOffsets: [Float]? = nil,
                        recorder: StageRecorder? = nil, timer: StageTimer? = nil,
                        progress: ((Double) -> Void)? = nil) throws -> Animation {
        let s = try styleVector(style)
        if case .mimic = head { recorder?.record("style_code", Matrix(rows: 1, cols: s.count, data: s)) }
        try checkInitialOffsets(initialOffsets)
        // Rough cost split for the progress bar: the encoder dominates.
        let encoderShare = 0.9
        let features = try audioFeatures(audio, recorder: recorder, timer: timer) { done, total in
            progress?(encoderShare * Double(done) / Double(max(total, 1)))
        }
        return try decode(features, styleVector: s, initialOffsets: initialOffsets, recorder: recorder, timer: timer) { f in
            progress?(encoderShare + (1 - encoderShare) * f)
        }
    }

    /// The decoder half: audio features and a style vector (from `styleVector`) to offsets.
    public func decode(_ audioFeatures: AudioFeatures, styleVector s: [Float], initialOffsets: [Float]? = nil,
                       recorder: StageRecorder? = nil, timer: StageTimer? = nil,
                       progress: ((Double) -> Void)? = nil) throws -> Animation {
        guard s.count == config.decoder.d_model else {
            throw MimeticError.invalidArgument("style vector has \(s.count) values; this model's is \(config.decoder.d_model)")
        }
        try checkInitialOffsets(initialOffsets)
        var clock = timer?.start()
        let hidden = decodeHidden(audioFeatures, styleVector: s, initialOffsets: initialOffsets, progress: progress)
        timer?.lap("decoder", &clock)
        // The output projection of all frames at once: one GEMM instead of T GEMVs.
        let offsets: Matrix
        switch head {
        case .faceformer(let h): offsets = h.motionOut(hidden)
        case .imitator(let h): offsets = h.motion(hidden, style: s)
        case .mimic(let h): offsets = h.motionOut(hidden)
        }
        timer?.lap("motion_out", &clock)
        try Self.checkFinite(offsets.data, "animation")
        recorder?.record("decoder", hidden)
        recorder?.record("offsets", offsets)
        if let tpl = template, let recorder {
            var v = offsets
            let (rows, cols) = (v.rows, v.cols)
            v.data.withUnsafeMutableBufferPointer { vp in tpl.withUnsafeBufferPointer { Vec.addRows(vp.baseAddress!, rows: rows, cols: cols, ld: cols, $0.baseAddress!) } }
            recorder.record("vertices", v)
        }
        progress?(1)
        return Animation(offsets: offsets, fps: config.fps)
    }

    /// The decoder's output per frame, [T, d] (Imitator: the viseme features that feed its motion
    /// decoder), one incremental step per frame.
    func decodeHidden(_ audioFeatures: AudioFeatures, styleVector s: [Float], initialOffsets: [Float]? = nil,
                      progress: ((Double) -> Void)? = nil) -> Matrix {
        let frames = audioFeatures.frames
        let d = config.decoder.d_model, k = audioFeatures.keysPerFrame
        let state = FloatStorage(count: frameDecoder.layout.floats)
        var hidden = Matrix(zeros: frames, d)
        s.withUnsafeBufferPointer { sp in
            initialOffsets?.withUnsafeBufferPointer { frameDecoder.begin(state.pointer, style: sp.baseAddress!, initialOffsets: $0.baseAddress!) }
                ?? frameDecoder.begin(state.pointer, style: sp.baseAddress!, initialOffsets: nil)
        }
        audioFeatures.features.data.withUnsafeBufferPointer { ap in
            hidden.data.withUnsafeMutableBufferPointer { hp in
                for t in 0..<frames {
                    frameDecoder.decode(state.pointer, position: t, audio: ap.baseAddress! + t * k * d, offsets: nil)
                    if frames == 1 { frameDecoder.finishSingleFrameUtterance(state.pointer, offsets: nil) }
                    (hp.baseAddress! + t * d).update(from: frameDecoder.hidden(state.pointer), count: d)
                    if t % 32 == 31 { progress?(Double(t + 1) / Double(max(frames, 1))) }
                }
            }
        }
        return hidden
    }

    private func checkInitialOffsets(_ i: [Float]?) throws {
        guard let i else { return }
        guard i.count == outputSize else {
            throw MimeticError.invalidArgument("initial offsets have \(i.count) values; the model outputs \(outputSize)")
        }
        guard i.allSatisfy({ $0.isFinite }) else { throw MimeticError.invalidArgument("initial offsets contain NaN or Inf") }
    }

    /// The arithmetic of a model with finite but absurd weights can overflow float32; its
    /// output is then refused rather than handed on as NaN.
    static func checkFinite(_ x: [Float], _ what: String) throws {
        guard !x.withUnsafeBufferPointer({ Vec.allFinite($0.baseAddress!, count: $0.count) }) else { return }
        throw MimeticError.invalidModel("the model's \(what) is not finite: its weights overflow float32 arithmetic (a corrupt or hostile model file)")
    }
}
