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
        var inCh = 1
        for (i, len) in wav2vec!.cnnLayerFrames(samples: n).enumerated() {
            c.cnn += 2 * Double(len) * Double(e.conv_dim[i]) * Double(e.conv_kernel[i] * inCh)
            inCh = e.conv_dim[i]
        }
        let ta = alignment.encoderRows(cnnFrames: wav2vec!.cnnFrames(samples: n))
        let t = Double(ta), h = Double(e.hidden_size), f = Double(e.intermediate_size)
        c.transformer += 2 * t * Double(inCh) * h
        c.transformer += 2 * t * h * Double(e.pos_conv_kernel) * h / Double(e.pos_conv_groups)
        c.transformer += Double(e.num_layers) * (2 * t * 4 * h * h + 2 * 2 * t * t * h + 2 * 2 * t * h * f)
        var rows = t
        if alignment.downsamples {
            rows = Double((ta + 1) / 2)
            c.transformer += 2 * rows * Double(FrameAlignment.downsampleKernel) * h * h
        }
        let dm = Double(config.decoder.d_model)
        c.transformer += 2 * rows * h * dm
        decoderCost(frames: rows / Double(alignment.featureRowsPerFrame), &c)
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
