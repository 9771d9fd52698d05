import Foundation

/// The architecture config stored as JSON in a model file's `mimetic.config` metadata
/// (docs/model-format.md). Decoding validates it; the loaders then check every tensor against it.
public struct ModelConfig: Codable, Equatable, Sendable {
    public enum Family: String, Codable, Sendable { case faceformer, imitator, mimic }

    public struct Encoder: Codable, Equatable, Sendable {
        public var type: String
        public var conv_dim: [Int]
        public var conv_kernel: [Int]
        public var conv_stride: [Int]
        public var conv_bias: Bool
        public var feat_extract_norm: String
        public var hidden_size: Int
        public var num_layers: Int
        public var num_heads: Int
        public var intermediate_size: Int
        public var pos_conv_kernel: Int
        public var pos_conv_groups: Int
        public var layer_norm_eps: Float
        public var stable_layer_norm: Bool
        public var input_norm_eps: Double
    }

    /// The real-time encoder (`type` "realtime"): log-mel front end and a causal conv stack that
    /// emits one row per motion frame (docs/model-format.md, "Real-time encoder").
    public struct RealtimeEncoder: Codable, Equatable, Sendable {
        public var type: String
        public var n_fft: Int
        public var win_length: Int
        public var window_ahead: Int
        public var n_mels: Int
        public var f_min: Double
        public var f_max: Double
        public var mel_scale: String
        public var log_floor: Double
        public var subframes: Int
        public var hidden_size: Int
        public var mel_kernel: [Int]
        public var mel_dilation: [Int]
        public var mel_lookahead: [Int]
        public var down_kernel: Int
        public var down_lookahead: Int
        public var kernel: [Int]
        public var dilation: [Int]
        public var lookahead: [Int]
        public var layer_norm_eps: Float
    }

    /// The `encoder` section: its `type` picks the family.
    public enum EncoderConfig: Codable, Equatable, Sendable {
        case wav2vec2(Encoder)
        case realtime(RealtimeEncoder)

        private enum Keys: String, CodingKey { case type }
        static let unsupportedPrefix = "unsupported encoder type"

        public init(from decoder: Swift.Decoder) throws {
            let c = try decoder.container(keyedBy: Keys.self)
            let type = try c.decode(String.self, forKey: .type)
            switch type {
            case "wav2vec2": self = .wav2vec2(try Encoder(from: decoder))
            case "realtime": self = .realtime(try RealtimeEncoder(from: decoder))
            default:
                throw DecodingError.dataCorruptedError(forKey: .type, in: c, debugDescription:
                    "\(Self.unsupportedPrefix) '\(type)' (this runtime knows 'wav2vec2' and 'realtime')")
            }
        }

        public func encode(to encoder: Swift.Encoder) throws {
            switch self {
            case .wav2vec2(let e): try e.encode(to: encoder)
            case .realtime(let e): try e.encode(to: encoder)
            }
        }

        /// Width of the encoder output (the audio map's input).
        public var hiddenSize: Int {
            switch self {
            case .wav2vec2(let e): return e.hidden_size
            case .realtime(let e): return e.hidden_size
            }
        }
    }

    public struct Alignment: Codable, Equatable, Sendable {
        /// `native`: the encoder itself emits one row per motion frame (the real-time encoder).
        public enum Mode: String, Codable, Sendable { case interpolate, pairs, conv, native }
        public var mode: Mode
        public var frames_offset: Int?
    }

    public struct Decoder: Codable, Equatable, Sendable {
        public enum NormKind: String, Codable, Sendable { case layer, saln }
        public enum AttentionBias: String, Codable, Sendable { case alibi, causal }
        public enum Positional: String, Codable, Sendable { case periodic, constant }
        public var d_model: Int
        public var num_heads: Int
        public var ffn_dim: Int
        public var num_layers: Int
        public var norm: NormKind
        public var norm_eps: Float
        public var attention_bias: AttentionBias
        public var positional: Positional
        public var period: Int
        public var max_seq_len: Int
    }

    public struct Styles: Codable, Equatable, Sendable {
        public var names: [String]
    }

    public struct Imitator: Codable, Equatable, Sendable {
        public enum StartToken: String, Codable, Sendable { case zeros, style }
        public var start_token: StartToken
        public var mlp_layers: Int
        public var leaky_slope: Float
    }

    public struct Mimic: Codable, Equatable, Sendable {
        public var style_conv_layers: Int
        public var style_layers: Int
        public var style_heads: Int
        public var style_ffn_dim: Int
        public var style_window: Int
        public var style_norm_eps: Float?
    }

    public var family: Family
    public var sample_rate: Int
    public var fps: Int
    public var num_vertices: Int
    public var encoder: EncoderConfig
    public var alignment: Alignment
    public var decoder: Decoder
    public var styles: Styles?
    public var imitator: Imitator?
    public var mimic: Mimic?

    public var outputSize: Int { 3 * num_vertices }
    /// The wav2vec 2.0 section, or nil for another encoder.
    public var wav2vec2: Encoder? { if case .wav2vec2(let e) = encoder { return e } else { return nil } }
    /// The real-time encoder section, or nil for another encoder.
    public var realtime: RealtimeEncoder? { if case .realtime(let e) = encoder { return e } else { return nil } }
    public var styleNames: [String] { styles?.names ?? [] }

    public static func decode(json: String, source: String) throws -> ModelConfig {
        let config: ModelConfig
        do {
            config = try JSONDecoder().decode(ModelConfig.self, from: Data(json.utf8))
        } catch let DecodingError.keyNotFound(key, ctx) {
            throw MimeticError.invalidModel("\(source): config is missing '\((ctx.codingPath.map(\.stringValue) + [key.stringValue]).joined(separator: "."))'")
        } catch let DecodingError.typeMismatch(_, ctx) {
            throw MimeticError.invalidModel("\(source): config field '\(ctx.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type")
        } catch let DecodingError.dataCorrupted(ctx) where ctx.debugDescription.hasPrefix(EncoderConfig.unsupportedPrefix) {
            throw MimeticError.unsupported("\(source): \(ctx.debugDescription)")
        } catch let DecodingError.dataCorrupted(ctx) {
            let path = ctx.codingPath.map(\.stringValue).joined(separator: ".")
            throw MimeticError.invalidModel("\(source): config \(path.isEmpty ? "JSON" : "field '\(path)'") is invalid: \(ctx.debugDescription)")
        } catch {
            throw MimeticError.invalidModel("\(source): config JSON cannot be read: \(error)")
        }
        try config.validate(source: source)
        return config
    }

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
            guard alignment.mode != .native else { throw fail("alignment 'native' goes with the realtime encoder only") }
        case .realtime(let r):
            try Self.validate(r, fail: fail)
            guard alignment.mode == .native, (alignment.frames_offset ?? 0) == 0 else {
                throw fail("the realtime encoder needs alignment {\"mode\": \"native\", \"frames_offset\": 0}")
            }
        }
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
    }

    private static func validate(_ e: Encoder, fail: (String) -> MimeticError) throws {
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
        if alignment.mode == .interpolate, let o = alignment.frames_offset, !(0...8).contains(o) {
            throw fail("alignment.frames_offset \(o) out of range")
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
