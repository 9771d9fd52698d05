extension ModelConfig {
    /// Range checks that shapes alone cannot catch, so that no later arithmetic can overflow
    /// or divide by zero on a hostile file.
    func validate(source: String) throws {
        func fail(_ m: String) -> MimeticError { .invalidModel("\(source): config: \(m)") }
        guard sample_rate == 16000 else { throw MimeticError.unsupported("\(source): encoder sample rate \(sample_rate) (the encoders run at 16000)") }
        guard (1...240).contains(fps) else { throw fail("fps \(fps) out of range 1...240") }
        guard (1...1_000_000).contains(num_vertices) else { throw fail("num_vertices \(num_vertices) out of range") }
        switch encoder {
        case .wav2vec2(let e):
            try Self.validate(e, fail: fail)
        case .realtime(let r):
            try Self.validate(r, fail: fail)
        }
        try FrameAlignment.validate(alignment, realtimeEncoder: realtime != nil, fail: fail)
        try validateDecoderAndHead(fail: fail)
    }

    private static func validate(_ r: RealtimeEncoder, fail: (String) -> MimeticError) throws {
        guard r.type == "realtime" else { throw fail("encoder type '\(r.type)'") }
        guard (16...8192).contains(r.n_fft), r.n_fft & (r.n_fft - 1) == 0 else { throw fail("encoder.n_fft must be a power of two in 16...8192") }
        guard (1...r.n_fft).contains(r.win_length), (0...r.win_length).contains(r.window_ahead) else {
            throw fail("encoder.win_length must be in 1...n_fft and window_ahead in 0...win_length")
        }
        guard (1...1024).contains(r.n_mels), r.f_min >= 0, r.f_min < r.f_max, r.f_max <= 8000 else {
            throw fail("encoder.n_mels must be in 1...1024 and 0 <= f_min < f_max <= 8000")
        }
        guard r.mel_scale == "htk" else { throw fail("encoder.mel_scale '\(r.mel_scale)' (only 'htk')") }
        guard r.log_floor > 0, r.log_floor.isFinite, r.layer_norm_eps > 0 else { throw fail("encoder.log_floor and layer_norm_eps must be positive") }
        guard (1...64).contains(r.subframes), (1...16384).contains(r.hidden_size) else {
            throw fail("encoder.subframes must be in 1...64 and hidden_size in 1...16384")
        }
        for (k, d, a) in [(r.mel_kernel, r.mel_dilation, r.mel_lookahead), (r.kernel, r.dilation, r.lookahead)] {
            guard k.count == d.count, k.count == a.count, k.count <= 64 else {
                throw fail("encoder kernel/dilation/lookahead lists must have equal lengths (at most 64)")
            }
            for i in 0..<k.count {
                guard (1...64).contains(k[i]), (1...1024).contains(d[i]), (0...((k[i] - 1) * d[i])).contains(a[i]) else {
                    throw fail("encoder layer \(i): need 1 <= kernel <= 64, 1 <= dilation <= 1024, 0 <= lookahead <= (kernel - 1) * dilation")
                }
            }
        }
        guard (1...256).contains(r.down_kernel), (0..<r.down_kernel).contains(r.down_lookahead) else {
            throw fail("encoder.down_kernel must be in 1...256 and down_lookahead in 0..<down_kernel")
        }
        // The downsampling conv's stride is `subframes`: a shorter kernel would never read some mel
        // frames, and a stream (which drops each output's inputs once read) cannot run it.
        guard r.down_kernel >= r.subframes else {
            throw fail("encoder.down_kernel (\(r.down_kernel)) must be at least encoder.subframes (\(r.subframes)), its stride")
        }
    }

    private static func validate(_ e: Wav2Vec2, fail: (String) -> MimeticError) throws {
        guard !e.conv_dim.isEmpty, e.conv_dim.count == e.conv_kernel.count, e.conv_dim.count == e.conv_stride.count else {
            throw fail("conv_dim, conv_kernel and conv_stride must be non-empty and of equal length")
        }
        guard e.conv_dim.allSatisfy({ (1...8192).contains($0) }), e.conv_kernel.allSatisfy({ (1...1024).contains($0) }),
              e.conv_stride.allSatisfy({ (1...1024).contains($0) }) else { throw fail("conv sizes out of range") }
        guard ["group", "layer"].contains(e.feat_extract_norm) else { throw fail("feat_extract_norm must be 'group' or 'layer'") }
        guard (1...16384).contains(e.hidden_size), (0...256).contains(e.num_layers), (1...256).contains(e.num_heads),
              e.hidden_size % e.num_heads == 0, (1...65536).contains(e.intermediate_size) else {
            throw fail("encoder hidden_size/num_heads/num_layers/intermediate_size inconsistent")
        }
        guard (1...4096).contains(e.pos_conv_kernel), (1...e.hidden_size).contains(e.pos_conv_groups),
              e.hidden_size % e.pos_conv_groups == 0 else { throw fail("pos_conv_kernel/pos_conv_groups invalid") }
        guard e.layer_norm_eps > 0, e.input_norm_eps > 0 else { throw fail("eps values must be positive") }
    }

    private func validateDecoderAndHead(fail: (String) -> MimeticError) throws {
        let d = decoder
        guard (1...8192).contains(d.d_model), (1...256).contains(d.num_heads), d.d_model % d.num_heads == 0,
              (1...65536).contains(d.ffn_dim), (1...64).contains(d.num_layers), d.norm_eps > 0,
              (1...100_000).contains(d.period), (1...100_000).contains(d.max_seq_len) else {
            throw fail("decoder sizes inconsistent (d_model must divide by num_heads; all sizes positive)")
        }
        switch family {
        case .faceformer:
            guard d.norm == .layer else { throw fail("faceformer uses layer norms") }
            guard let n = styles?.names.count, n > 0 else { throw fail("faceformer needs styles.names (one per one-hot slot)") }
        case .imitator:
            guard let im = imitator else { throw fail("family imitator needs the 'imitator' section") }
            guard (0...64).contains(im.mlp_layers) else { throw fail("imitator.mlp_layers out of range") }
            guard let n = styles?.names.count, n > 0 else { throw fail("imitator needs styles.names (one per one-hot slot)") }
            guard d.norm == .layer else { throw fail("imitator uses layer norms") }
        case .mimic:
            guard let m = mimic else { throw fail("family mimic needs the 'mimic' section") }
            guard (0...64).contains(m.style_conv_layers), (0...64).contains(m.style_layers), (1...256).contains(m.style_heads),
                  d.d_model % m.style_heads == 0, (1...65536).contains(m.style_ffn_dim), m.style_window >= 1 else {
                throw fail("mimic style encoder sizes inconsistent")
            }
            guard d.norm == .saln else { throw fail("mimic uses SALN norms") }
        }
    }
}
