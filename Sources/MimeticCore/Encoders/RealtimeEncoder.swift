
/// The real-time encoder (`encoder.type` "realtime"): a log-mel front end and a causal (dilated)
/// conv stack emitting one row per motion frame, defined so that a stream reproduces offline
/// features exactly (docs/model-format.md, "Real-time encoder"; the PyTorch module is
/// tools/mimetic_tools/realtime_encoder.py).
///
///   samples ─ log-mel at k·fps (float64) ─ per-bin affine ─ mel-rate conv layers ─ stride-k conv
///   ─ motion-rate conv layers ─ LayerNorm ─ [T, H]
///
/// Every layer reads, for output t, the inputs s·t + a − (K−1)·d + i·d (i < K; zeros before the
/// first input), then y = GELU(LayerNorm(conv)) (+ the input row t when residual). Offline runs
/// each layer over all rows at once; a stream keeps each layer's input tail and runs the same
/// `RealtimeLayer.forward` on the new rows only.
final class RealtimeEncoder {
    let config: ModelConfig.RealtimeEncoder
    let fps: Int
    let frontEnd: LogMelFrontEnd
    let melScale: Weight
    let melShift: Weight
    let layers: [RealtimeLayer]
    let norm: LayerNorm
    /// Index of the stride-k layer in `layers` (its output is the "downsampled" stage).
    let downIndex: Int
    var hiddenSize: Int { config.hidden_size }

    init(_ store: TensorStore, config c: ModelConfig.RealtimeEncoder, fps: Int) throws {
        config = c
        self.fps = fps
        frontEnd = LogMelFrontEnd(c, fps: fps)
        melScale = try store.weight("encoder.mel_norm.weight", shape: [c.n_mels])
        melShift = try store.weight("encoder.mel_norm.bias", shape: [c.n_mels])
        var layers: [RealtimeLayer] = []
        var cIn = c.n_mels
        let h = c.hidden_size
        for i in 0..<c.mel_kernel.count {
            layers.append(try RealtimeLayer(store, "encoder.mel_layers.\(i)", in: cIn, out: h, kernel: c.mel_kernel[i],
                                            dilation: c.mel_dilation[i], stride: 1, lookahead: c.mel_lookahead[i],
                                            residual: i > 0, eps: c.layer_norm_eps))
            cIn = h
        }
        downIndex = layers.count
        layers.append(try RealtimeLayer(store, "encoder.down", in: cIn, out: h, kernel: c.down_kernel, dilation: 1,
                                        stride: c.subframes, lookahead: c.down_lookahead, residual: false, eps: c.layer_norm_eps))
        for i in 0..<c.kernel.count {
            layers.append(try RealtimeLayer(store, "encoder.layers.\(i)", in: h, out: h, kernel: c.kernel[i],
                                            dilation: c.dilation[i], stride: 1, lookahead: c.lookahead[i],
                                            residual: true, eps: c.layer_norm_eps))
        }
        self.layers = layers
        norm = try LayerNorm(store, "encoder.norm", features: h, eps: c.layer_norm_eps)
    }

    // MARK: Frame arithmetic

    /// T = floor(N · fps / 16000): the frames whose whole interval [t/fps, (t+1)/fps) is in the audio.
    func frames(samples n: Int) -> Int { max(0, n) * fps / 16000 }

    /// The fewest samples that make one frame.
    var minimumSamples: Int { (16000 + fps - 1) / fps }

    /// Outputs of layer `i` (or, with i = −1, mel frames) needed for motion frames 0..<n.
    /// Allocation-free (streams call it per frame).
    func needed(layer i: Int, frames n: Int) -> Int {
        var count = n
        var l = layers.count - 1
        while l > i {
            let s = layers[l]
            count = count > 0 ? s.stride * (count - 1) + s.lookahead + 1 : 0
            l -= 1
        }
        return count
    }

    /// Mel frames needed for motion frames 0..<n.
    func melFrames(frames n: Int) -> Int { needed(layer: -1, frames: n) }

    /// 16 kHz samples that must have arrived before frame t can be computed: its last mel window's end.
    func samplesNeeded(frame t: Int) -> Int { frontEnd.windowEnd(melFrames(frames: t + 1) - 1) }

    /// Worst case over frames of the audio a stream needs beyond a frame's time t/fps before it
    /// can emit the frame: the encoder's lookahead, or the rest of the frame's interval if longer.
    var streamDelaySamples: Double {
        var worst = 0.0
        for t in fps..<(2 * fps) {
            let complete = Double((t + 1) * 16000) / Double(fps)
            let need = max(Double(samplesNeeded(frame: t)), complete.rounded(.up))
            worst = max(worst, need - Double(t * 16000) / Double(fps))
        }
        return worst
    }

    /// Worst case over frames of the audio a frame's features depend on beyond its time t/fps.
    var lookaheadSamples: Double {
        var worst = 0.0
        for t in fps..<(2 * fps) { worst = max(worst, Double(samplesNeeded(frame: t)) - Double(t * 16000) / Double(fps)) }
        return worst
    }

    // MARK: Offline

    /// Offline features of a whole utterance: [T, H] (stages "mel", "downsampled", "encoder").
    func features(_ audio: [Float], recorder: StageRecorder? = nil, timer: StageTimer? = nil) -> Matrix {
        var clock = timer?.start()
        let t = frames(samples: audio.count)
        let j = melFrames(frames: t)
        let nm = config.n_mels
        var mel = Matrix(zeros: j, nm)
        var scratch = [Double](repeating: 0, count: frontEnd.scratchDoubles)
        var window = [Float](repeating: 0, count: config.win_length)
        audio.withUnsafeBufferPointer { ap in
            scratch.withUnsafeMutableBufferPointer { sp in
                window.withUnsafeMutableBufferPointer { wp in
                    mel.data.withUnsafeMutableBufferPointer { mp in
                        for f in 0..<j {
                            frontEnd.fillWindow(f, samples: ap.baseAddress!, base: 0, available: audio.count, into: wp.baseAddress!)
                            frontEnd.logMel(window: wp.baseAddress!, scratch: sp.baseAddress!, into: mp.baseAddress! + f * nm)
                        }
                    }
                }
            }
        }
        recorder?.record("mel", mel)
        timer?.lap("mel", &clock)
        // Layer inputs carry their zero rows in front: row r of layer i's input is position r − leftPad.
        var input = Matrix(zeros: layers[0].leftPad + j, nm)
        mel.data.withUnsafeBufferPointer { mp in
            input.data.withUnsafeMutableBufferPointer { ip in
                normalizeMel(mp.baseAddress!, rows: j, into: ip.baseAddress! + layers[0].leftPad * nm)
            }
        }
        var maxScratch = 0
        for (i, layer) in layers.enumerated() { maxScratch = max(maxScratch, layer.scratchFloats(outputs: needed(layer: i, frames: t))) }
        let heap = HeapArena(floats: maxScratch)
        for (i, layer) in layers.enumerated() {
            let m = needed(layer: i, frames: t)
            let pad = i + 1 < layers.count ? layers[i + 1].leftPad : 0
            var output = Matrix(zeros: pad + m, layer.outChannels)
            input.data.withUnsafeBufferPointer { xp in
                output.data.withUnsafeMutableBufferPointer { yp in
                    layer.forward(xp.baseAddress!, outputs: m, into: yp.baseAddress! + pad * layer.outChannels, arena: &heap.arena)
                }
            }
            if i == downIndex, let recorder { recorder.record("downsampled", output.rows(pad..<(pad + m))) }
            input = output
        }
        norm(&input)
        recorder?.record("encoder", input)
        timer?.lap("cnn", &clock)
        return input
    }

    /// x · mel_norm.weight + mel_norm.bias per bin, `rows` log-mel rows into `out`.
    func normalizeMel(_ x: UnsafePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Float>) {
        let nm = config.n_mels
        for r in 0..<rows {
            for b in 0..<nm { out[r * nm + b] = x[r * nm + b] * melScale.pointer[b] + melShift.pointer[b] }
        }
    }

    /// Multiply-adds ×2 of an utterance of `n` samples: front end (FFT, power, mel) and the layers.
    func cost(samples n: Int) -> (mel: Double, layers: Double) {
        let t = frames(samples: n)
        let fft = Double(config.n_fft)
        let mel = Double(melFrames(frames: t)) * (5 * fft * log2(fft) / 2 + 4 * fft + Double(config.win_length))
        var conv = 0.0
        for (i, l) in layers.enumerated() { conv += 2 * Double(needed(layer: i, frames: t)) * Double(l.patch * l.outChannels) }
        return (mel, conv)
    }
}
