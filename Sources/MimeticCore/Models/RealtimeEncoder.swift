import Foundation

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

/// One conv block of the real-time encoder over time-major rows, allocation-free: im2col of the
/// (dilated, strided) taps into arena scratch, one GEMM, bias, LayerNorm, GELU, residual.
struct RealtimeLayer {
    let weight: Weight   // [out, kernel, in] = [out, kernel · in]: the patch order
    let bias: Weight
    let gamma: Weight
    let beta: Weight
    let inChannels, outChannels, kernel, dilation, stride, lookahead: Int
    let residual: Bool
    let eps: Float

    init(_ store: TensorStore, _ name: String, in cIn: Int, out cOut: Int, kernel: Int, dilation: Int, stride: Int,
         lookahead: Int, residual: Bool, eps: Float) throws {
        weight = try store.weight("\(name).conv.weight", shape: [cOut, kernel, cIn])
        bias = try store.weight("\(name).conv.bias", shape: [cOut])
        gamma = try store.weight("\(name).norm.weight", shape: [cOut])
        beta = try store.weight("\(name).norm.bias", shape: [cOut])
        inChannels = cIn
        outChannels = cOut
        self.kernel = kernel
        self.dilation = dilation
        self.stride = stride
        self.lookahead = lookahead
        self.residual = residual
        self.eps = eps
    }

    var patch: Int { kernel * inChannels }
    /// Input rows one output reads, first to last.
    var span: Int { (kernel - 1) * dilation + 1 }
    /// Zero rows in front of the first input.
    var leftPad: Int { (kernel - 1) * dilation - lookahead }
    /// Outputs per im2col block: ~1 MB of patches.
    private var blockRows: Int { max(1, (1 << 18) / max(patch, 1)) }

    func scratchFloats(outputs m: Int) -> Int { Arena.rounded(min(max(m, 1), blockRows) * patch) }

    /// Input rows `outputs` outputs read: stride · (m − 1) + span.
    func rowsRead(outputs m: Int) -> Int { m > 0 ? stride * (m - 1) + span : 0 }

    /// `m` outputs from the input rows at `x` (row r is the first row output 0 reads; stride
    /// inChannels) into `y` (stride outChannels). The residual of output r is input row leftPad + r.
    func forward(_ x: UnsafePointer<Float>, outputs m: Int, into y: UnsafeMutablePointer<Float>, arena: inout Arena) {
        guard m > 0 else { return }
        let mark = arena.mark()
        defer { arena.release(to: mark) }
        let block = min(m, blockRows)
        let scratch = arena.take(block * patch)
        var r0 = 0
        while r0 < m {
            let rows = min(block, m - r0)
            for r in 0..<rows {
                let src = x + (stride * (r0 + r)) * inChannels
                let dst = scratch + r * patch
                if dilation == 1 {
                    dst.update(from: src, count: patch)
                } else {
                    for i in 0..<kernel { (dst + i * inChannels).update(from: src + i * dilation * inChannels, count: inChannels) }
                }
            }
            let out = y + r0 * outChannels
            BLAS.gemmNT(m: rows, n: outChannels, k: patch, a: scratch, lda: patch, b: weight.pointer, ldb: patch, c: out, ldc: outChannels)
            Vec.addRows(out, rows: rows, cols: outChannels, ld: outChannels, bias.pointer)
            Norm.layerNorm(out, rows: rows, cols: outChannels, gamma: gamma.pointer, beta: beta.pointer, eps: eps)
            Activations.gelu(out, count: rows * outChannels)
            if residual {
                for r in 0..<rows { Vec.add(out + r * outChannels, x + (leftPad + r0 + r) * inChannels, count: outChannels) }
            }
            r0 += rows
        }
    }
}

/// The fixed front end: windows of 16 kHz samples → log-mel rows, in float64 as the PyTorch module
/// computes them (periodic Hann window, zero-padded real FFT, power, HTK triangles, log with a floor).
struct LogMelFrontEnd {
    let nFFT: Int
    let winLength: Int
    let windowAhead: Int
    let nMels: Int
    let subframes: Int
    let fps: Int
    let logFloor: Double
    let window: [Double]
    /// Band b weighs FFT bins bandFirst[b] ..< bandFirst[b] + bandCount[b] with bandWeights[bandOffset[b]...].
    let bandFirst: [Int]
    let bandCount: [Int]
    let bandOffset: [Int]
    let bandWeights: [Double]
    let fft: RealFFT

    init(_ c: ModelConfig.RealtimeEncoder, fps: Int) {
        nFFT = c.n_fft
        winLength = c.win_length
        windowAhead = c.window_ahead
        nMels = c.n_mels
        subframes = c.subframes
        self.fps = fps
        logFloor = c.log_floor
        window = (0..<c.win_length).map { 0.5 - 0.5 * cos(2 * Double.pi * Double($0) / Double(c.win_length)) }
        let fb = LogMelFrontEnd.htkFilterbank(nMels: c.n_mels, nFFT: c.n_fft, fMin: c.f_min, fMax: c.f_max)
        var first: [Int] = [], count: [Int] = [], offset: [Int] = [], weights: [Double] = []
        for row in fb {
            let nz = row.indices.filter { row[$0] > 0 }
            let lo = nz.first ?? 0, hi = (nz.last ?? -1) + 1
            first.append(lo)
            count.append(hi - lo)
            offset.append(weights.count)
            if hi > lo { weights += row[lo..<hi] }
        }
        bandFirst = first
        bandCount = count
        bandOffset = offset
        bandWeights = weights
        fft = RealFFT(size: c.n_fft)
    }

    /// HTK mel scale, n_mels + 2 points equally spaced in mel from f_min to f_max, triangles with
    /// peak 1 at the bin frequencies b · 16000 / n_fft (tools/mimetic_tools/realtime_encoder.py).
    static func htkFilterbank(nMels: Int, nFFT: Int, fMin: Double, fMax: Double) -> [[Double]] {
        func mel(_ f: Double) -> Double { 2595 * log10(1 + f / 700) }
        let m0 = mel(fMin), m1 = mel(fMax)
        let step = (m1 - m0) / Double(nMels + 1)
        let hz = (0...(nMels + 1)).map { i -> Double in
            let m = i == nMels + 1 ? m1 : m0 + Double(i) * step   // numpy.linspace's endpoint is exact
            return 700 * (pow(10, m / 2595) - 1)
        }
        let bins = nFFT / 2 + 1
        return (0..<nMels).map { b in
            let lo = hz[b], c = hz[b + 1], hi = hz[b + 2]
            return (0..<bins).map { k in
                let f = Double(k) * 16000 / Double(nFFT)
                return max(0, min((f - lo) / (c - lo), (hi - f) / (hi - c)))
            }
        }
    }

    /// Anchor sample of mel frame j: floor(j · 16000 / (k · fps)).
    @inline(__always) func anchor(_ j: Int) -> Int { j * 16000 / (subframes * fps) }
    /// End (exclusive) of mel frame j's window.
    @inline(__always) func windowEnd(_ j: Int) -> Int { anchor(j) + windowAhead }

    /// Doubles `logMel` needs as scratch.
    var scratchDoubles: Int { fft.scratchDoubles + nFFT / 2 + 1 }

    /// Copies mel frame j's window (global samples [end − win, end)) from `samples`, which holds
    /// global samples base ..< base + available; zeros outside.
    func fillWindow(_ j: Int, samples: UnsafePointer<Float>, base: Int, available: Int, into w: UnsafeMutablePointer<Float>) {
        let end = windowEnd(j), start = end - winLength
        for i in 0..<winLength {
            let g = start + i
            w[i] = g >= 0 && g < base + available ? samples[g - base] : 0
        }
    }

    /// log(max(mel, floor)) of one window of `winLength` samples into `out` (nMels floats).
    func logMel(window x: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Double>, into out: UnsafeMutablePointer<Float>) {
        let power = scratch + fft.scratchDoubles
        window.withUnsafeBufferPointer { w in
            fft.power(winLength: winLength, samples: x, window: w.baseAddress!, scratch: scratch, into: power)
        }
        bandWeights.withUnsafeBufferPointer { wts in
            for b in 0..<nMels {
                var s = 0.0
                let f = bandFirst[b], o = bandOffset[b]
                for i in 0..<bandCount[b] { s += wts[o + i] * power[f + i] }
                out[b] = Float(Foundation.log(max(s, logFloor)))
            }
        }
    }
}

/// Power spectrum |rfft(x · w, n)|² of a real signal (zero-padded to n, a power of two) through a
/// complex FFT of n/2 points, in float64.
struct RealFFT {
    let n: Int
    let half: Int
    let bitReverse: [Int]
    let cosTable: [Double]   // cos(2π m / half), m < half / 2
    let sinTable: [Double]
    let postCos: [Double]    // cos(2π k / n), k ≤ half
    let postSin: [Double]

    init(size n: Int) {
        self.n = n
        half = n / 2
        let h = half
        var bits = 0
        while (1 << bits) < h { bits += 1 }
        bitReverse = (0..<h).map { i in
            var r = 0
            for b in 0..<bits where i & (1 << b) != 0 { r |= 1 << (bits - 1 - b) }
            return r
        }
        cosTable = (0..<max(h / 2, 1)).map { cos(2 * Double.pi * Double($0) / Double(h)) }
        sinTable = (0..<max(h / 2, 1)).map { sin(2 * Double.pi * Double($0) / Double(h)) }
        postCos = (0...h).map { cos(2 * Double.pi * Double($0) / Double(n)) }
        postSin = (0...h).map { sin(2 * Double.pi * Double($0) / Double(n)) }
    }

    var scratchDoubles: Int { 2 * half }

    /// `power[k]`, k = 0 ... n/2, of the first `winLength` samples times `window`, zero-padded to n.
    func power(winLength: Int, samples x: UnsafePointer<Float>, window w: UnsafePointer<Double>,
               scratch: UnsafeMutablePointer<Double>, into power: UnsafeMutablePointer<Double>) {
        let h = half
        let re = scratch, im = scratch + h
        // z[m] = x[2m] + i x[2m+1], stored bit-reversed for the in-place FFT.
        for m in 0..<h {
            let a = 2 * m, b = 2 * m + 1
            let xr = a < winLength ? Double(x[a]) * w[a] : 0
            let xi = b < winLength ? Double(x[b]) * w[b] : 0
            let r = bitReverse[m]
            re[r] = xr
            im[r] = xi
        }
        cosTable.withUnsafeBufferPointer { ct in
            sinTable.withUnsafeBufferPointer { st in
                var len = 2
                while len <= h {
                    let halfLen = len / 2, step = h / len
                    var i = 0
                    while i < h {
                        for j in 0..<halfLen {
                            let wr = ct[j * step], wi = -st[j * step]   // e^{-2πi j/len}
                            let p = i + j, q = p + halfLen
                            let vr = re[q] * wr - im[q] * wi, vi = re[q] * wi + im[q] * wr
                            re[q] = re[p] - vr; im[q] = im[p] - vi
                            re[p] += vr; im[p] += vi
                        }
                        i += len
                    }
                    len *= 2
                }
            }
        }
        // X[k] = E[k] + e^{-2πik/n} O[k], E = (Z[k] + conj Z[h−k]) / 2, O = −i (Z[k] − conj Z[h−k]) / 2.
        for k in 0...h {
            let a = k % h, b = (h - k) % h
            let zr = re[a], zi = im[a], cr = re[b], ci = -im[b]
            let er = (zr + cr) / 2, ei = (zi + ci) / 2
            let dr = (zr - cr) / 2, di = (zi - ci) / 2
            let or = di, oi = -dr                                   // −i (dr + i di)
            let c = postCos[k], s = -postSin[k]                     // e^{-2πik/n}
            let xr = er + or * c - oi * s, xi = ei + or * s + oi * c
            power[k] = xr * xr + xi * xi
        }
    }
}
