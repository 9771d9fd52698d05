/// Plain data at the start of a stream's buffer: every counter of the stream, one section per
/// part. No pointers, so a byte copy of the buffer is a complete snapshot.
struct StreamHeader {
    var magic: UInt64
    var layoutHash: UInt64
    /// In a snapshot: FNV-1a over the snapshot's 8-byte words with this one taken as zero
    /// (`UntrustedState.checksum`); 0 in a live stream.
    var checksum: UInt64
    var input: StreamInput.State
    var cnn: IncrementalCNN.State             // wav2vec 2.0 streams
    var realtime: RealtimeEncoderStream.State // real-time encoder streams
    var queue: FrameQueue.State
    /// Motion frames decoded so far (the next frame's index).
    var framesDecoded: Int
    /// The basis-delta region holds a persona's motion-basis change in use.
    var basisDeltaActive: Bool
    /// A frame came out non-finite (a model whose arithmetic overflows): pulls fail until reset.
    var faulted: Bool
    var encoderSeconds: Double
    var decoderSeconds: Double

    static let magicValue: UInt64 = 0x4D494D4554494332   // "MIMETIC2"
}
