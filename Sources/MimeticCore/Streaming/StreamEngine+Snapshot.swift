/// Snapshots: the buffer holds no pointers, so a snapshot is a byte copy of it.
extension StreamEngine {
    /// Copies the whole state out.
    public func snapshot(into buffer: UnsafeMutableRawPointer, capacity: Int) throws {
        guard capacity >= byteCount else {
            throw MimeticError.bufferTooSmall("snapshot buffer has \(capacity) bytes; the stream state has \(byteCount)")
        }
        buffer.copyMemory(from: base, byteCount: byteCount)
    }

    public func restore(from buffer: UnsafeRawPointer, size: Int) throws {
        guard size == byteCount else {
            throw MimeticError.invalidArgument("snapshot has \(size) bytes; this stream's state has \(byteCount)")
        }
        let magic = buffer.loadUnaligned(fromByteOffset: layout.header, as: UInt64.self)
        let hash = buffer.loadUnaligned(fromByteOffset: layout.header + 8, as: UInt64.self)
        guard magic == StreamHeader.magicValue, hash == layout.hash else {
            throw MimeticError.invalidArgument("snapshot does not come from a stream of this model and params")
        }
        base.copyMemory(from: buffer, byteCount: byteCount)
    }

    /// Tests only: replaces the running input and first-layer GroupNorm statistics by fixed ones
    /// (e.g. the whole utterance's), isolating the window machinery from the statistics.
    func freezeStatistics(inputMean: Double, inputVariance: Double, channelMeans: [Double], channelVariances: [Double]) {
        cnn?.freezeStatistics(inputMean: inputMean, inputVariance: inputVariance, channelMeans: channelMeans, channelVariances: channelVariances)
    }
}
