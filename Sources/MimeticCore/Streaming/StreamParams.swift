/// What a stream is asked to do (mirrors `mimetic_stream_params` in include/mimetic.h).
public struct StreamParams: Sendable, Equatable {
    public enum SamplePolicy: Int32, Sendable { case sanitize = 0, reject = 1 }

    /// Rate of the pushed audio; resampled to the model's 16 kHz inside.
    public var sampleRate = 16000
    /// Future audio the encoder sees before a frame is emitted: the latency knob.
    public var lookaheadMs = StreamParams.defaultLookaheadMs
    /// Past audio the encoder sees with each hop.
    public var leftContextMs = StreamParams.defaultLeftContextMs
    /// Audio per encoder run.
    public var hopMs = StreamParams.defaultHopMs
    /// Frames computed and not yet pulled.
    public var maxQueuedFrames = 64
    public var samplePolicy = SamplePolicy.sanitize
    /// Room in the state for an Imitator persona's motion-basis change (3V × (d + 1) floats), so
    /// `setPersona` can switch to an adapted persona at run time.
    public var reserveBasisDelta = false

    /// Chosen from the streaming-vs-offline measurements in docs/streaming.md.
    public static let defaultLookaheadMs = 300
    public static let defaultLeftContextMs = 1000
    public static let defaultHopMs = 200

    public init() {}

    func validate() throws {
        func bad(_ m: String) -> MimeticError { .invalidArgument("stream params: \(m)") }
        guard StreamLimits.sampleRates.contains(sampleRate) else {
            throw bad("sample_rate \(sampleRate) Hz is unsupported (\(StreamLimits.sampleRates.lowerBound)...\(StreamLimits.sampleRates.upperBound) Hz)")
        }
        guard (StreamLimits.minLookaheadMs...StreamLimits.maxLookaheadMs).contains(lookaheadMs) else {
            throw bad("lookahead_ms \(lookaheadMs) is outside \(StreamLimits.minLookaheadMs)...\(StreamLimits.maxLookaheadMs)")
        }
        guard (0...StreamLimits.maxLeftContextMs).contains(leftContextMs) else {
            throw bad("left_context_ms \(leftContextMs) is outside 0...\(StreamLimits.maxLeftContextMs)")
        }
        guard (StreamLimits.minHopMs...StreamLimits.maxHopMs).contains(hopMs) else {
            throw bad("hop_ms \(hopMs) is outside \(StreamLimits.minHopMs)...\(StreamLimits.maxHopMs)")
        }
        guard (1...StreamLimits.maxQueuedFrames).contains(maxQueuedFrames) else {
            throw bad("max_queued_frames \(maxQueuedFrames) is outside 1...\(StreamLimits.maxQueuedFrames)")
        }
    }
}

/// One pulled frame's metadata (mirrors `mimetic_frame_info`).
public struct StreamFrameInfo: Sendable, Equatable {
    public var frameIndex: Int
    public var timestampSeconds: Double
    public var timestampSamples: Int
    public var latencySeconds: Double
    public var isFinal: Bool
}

/// Counters (mirrors `mimetic_stream_stats`).
public struct StreamStats: Sendable, Equatable {
    public var samplesPushed: Int
    public var framesEmitted: Int
    public var samplesRepaired: Int
    public var encoderSeconds: Double
    public var decoderSeconds: Double
}
