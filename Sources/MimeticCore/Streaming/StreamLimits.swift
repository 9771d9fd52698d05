/// Ranges the streaming parameters accept (the C header's mimetic_stream_params).
public enum StreamLimits {
    public static let minLookaheadMs = 0
    public static let maxLookaheadMs = 2000
    public static let maxLeftContextMs = 10_000
    public static let minHopMs = 10
    public static let maxHopMs = 2000
    public static let sampleRates = 8000...48000
    public static let maxQueuedFrames = 4096
}
