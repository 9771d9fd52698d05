import Dispatch

/// Arithmetic of one offline run, counted from the config (multiply-add = 2 FLOP), so benchmarks
/// can report achieved GFLOP/s against the machine's sgemm peak.
public struct Cost: Sendable {
    public var mel: Double = 0           // real-time encoder: the log-mel front end
    public var cnn: Double = 0           // wav2vec 2.0 CNN, or the real-time encoder's conv stack
    public var transformer: Double = 0   // projection, positional conv, layers, downsample, audio map
    public var decoder: Double = 0       // autoregressive steps
    public var motionOut: Double = 0     // output projection (and Imitator's MLP)
    public var total: Double { mel + cnn + transformer + decoder + motionOut }
}

extension MimeticModel {
    public func cost(samples n: Int) -> Cost {
        var c = Cost()
        if let rt = realtime {
            (c.mel, c.cnn) = rt.cost(samples: n)
            let frames = Double(rt.frames(samples: n))
            c.transformer = 2 * frames * Double(rt.hiddenSize) * Double(config.decoder.d_model)   // the audio map
            decoderCost(frames: frames, &c)
            return c
        }
        let e = wav2vec!.config
        var len = n, inCh = 1
        for i in 0..<e.conv_dim.count {
            len = len >= e.conv_kernel[i] ? (len - e.conv_kernel[i]) / e.conv_stride[i] + 1 : 0
            c.cnn += 2 * Double(len) * Double(e.conv_dim[i]) * Double(e.conv_kernel[i] * inCh)
            inCh = e.conv_dim[i]
        }
        let l = len
        let ta: Int
        switch config.alignment.mode {
        case .interpolate: ta = Alignment.interpolatedFrames(cnnFrames: l, fps: config.fps, offset: config.alignment.frames_offset ?? 0)
        case .pairs: ta = l - l % 2
        case .conv, .native: ta = l
        }
        let t = Double(ta), h = Double(e.hidden_size), f = Double(e.intermediate_size)
        c.transformer += 2 * t * Double(inCh) * h
        c.transformer += 2 * t * h * Double(e.pos_conv_kernel) * h / Double(e.pos_conv_groups)
        c.transformer += Double(e.num_layers) * (2 * t * 4 * h * h + 2 * 2 * t * t * h + 2 * 2 * t * h * f)
        var rows = t
        if config.alignment.mode == .conv {
            rows = Double((ta + 1) / 2)
            c.transformer += 2 * rows * 15 * h * h
        }
        let dm = Double(config.decoder.d_model)
        c.transformer += 2 * rows * h * dm
        decoderCost(frames: config.alignment.mode == .pairs ? rows / 2 : rows, &c)
        return c
    }

    private func decoderCost(frames: Double, _ c: inout Cost) {
        let dm = Double(config.decoder.d_model)
        let window = Double(config.decoder.max_seq_len)
        let perFrame = Double(config.decoder.num_layers) * (2 * 6 * dm * dm + 2 * 2 * dm * Double(config.decoder.ffn_dim))
        c.decoder = frames * perFrame + 2 * 2 * dm * (frames * min(frames, window) / 2) + frames * 2 * dm * dm
        c.motionOut = 2 * frames * dm * Double(outputSize)
        if let im = config.imitator { c.motionOut += 2 * frames * dm * dm * Double(im.mlp_layers) }
    }
}

/// Measured single-precision matrix-multiply throughput of this machine through OpenBLAS
/// (768³, the practical ceiling the encoder's GEMMs can reach), in GFLOP/s.
public func measureSgemmPeak(size: Int = 768, seconds: Double = 1.0) -> Double {
    let n = size
    let a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 0.25, count: n * n)
    var c = [Float](repeating: 0, count: n * n)
    var reps = 0
    let start = DispatchTime.now().uptimeNanoseconds
    var elapsed = 0.0
    a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
        BLAS.gemmNT(m: n, n: n, k: n, a: ap.baseAddress!, lda: n, b: bp.baseAddress!, ldb: n, c: cp.baseAddress!, ldc: n) // warm-up
        let t0 = DispatchTime.now().uptimeNanoseconds
        repeat {
            BLAS.gemmNT(m: n, n: n, k: n, a: ap.baseAddress!, lda: n, b: bp.baseAddress!, ldb: n, c: cp.baseAddress!, ldc: n)
            reps += 1
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        } while elapsed < seconds
    } } }
    _ = start
    return 2 * Double(n) * Double(n) * Double(n) * Double(reps) / elapsed / 1e9
}
