
/// The architecture config stored as JSON in a model file's `mimetic.config` metadata
/// (docs/model-format.md). Decoding validates it; the loaders then check every tensor against it.
public struct ModelConfig: Codable, Equatable, Sendable {
    public enum Family: String, Codable, Sendable { case faceformer, imitator, mimic }

    public struct Wav2Vec2: Codable, Equatable, Sendable {
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
        case wav2vec2(Wav2Vec2)
        case realtime(RealtimeEncoder)

        private enum Keys: String, CodingKey { case type }
        static let unsupportedPrefix = "unsupported encoder type"

        public init(from decoder: Swift.Decoder) throws {
            let c = try decoder.container(keyedBy: Keys.self)
            let type = try c.decode(String.self, forKey: .type)
            switch type {
            case "wav2vec2": self = .wav2vec2(try Wav2Vec2(from: decoder))
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
    public var wav2vec2: Wav2Vec2? { if case .wav2vec2(let e) = encoder { return e } else { return nil } }
    /// The real-time encoder section, or nil for another encoder.
    public var realtime: RealtimeEncoder? { if case .realtime(let e) = encoder { return e } else { return nil } }
    public var styleNames: [String] { styles?.names ?? [] }

    public static func decode(json: String, source: String) throws -> ModelConfig {
        let config: ModelConfig
        do {
            config = try JSONValueDecoder.decode(ModelConfig.self, from: JSONValue(parsing: json))
        } catch let error as JSONParseError {
            throw MimeticError.invalidModel("\(source): config JSON cannot be read: \(error)")
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
}
