/// Snapshots: the buffer holds no pointers, so a snapshot is a byte copy of it, sealed with a
/// checksum. A snapshot is untrusted input (it travels through save files and networks): restore
/// adopts it only after the checksum and every index, count and float it holds are checked, and
/// a refused snapshot leaves the stream as it was.
extension StreamEngine {
    static let checksumOffset = MemoryLayout<StreamHeader>.offset(of: \StreamHeader.checksum)!
    /// Where the header's Bools are (a tuple: computing it allocates nothing).
    static let flagOffsets = (MemoryLayout<StreamHeader>.offset(of: \StreamHeader.input.flushed)!,
                              MemoryLayout<StreamHeader>.offset(of: \StreamHeader.cnn.statisticsFrozen)!,
                              MemoryLayout<StreamHeader>.offset(of: \StreamHeader.basisDeltaActive)!,
                              MemoryLayout<StreamHeader>.offset(of: \StreamHeader.faulted)!)

    /// Copies the whole state out.
    public func snapshot(into buffer: UnsafeMutableRawPointer, capacity: Int) throws {
        guard capacity >= byteCount else {
            throw MimeticError.bufferTooSmall("snapshot buffer has \(capacity) bytes; the stream state has \(byteCount)")
        }
        buffer.copyMemory(from: base, byteCount: byteCount)
        let at = layout.header + Self.checksumOffset
        buffer.storeBytes(of: UntrustedState.checksum(buffer, count: byteCount, skipping: at).littleEndian, toByteOffset: at, as: UInt64.self)
    }

    public func restore(from buffer: UnsafeRawPointer, size: Int) throws {
        guard size == byteCount else {
            throw MimeticError.invalidArgument("snapshot has \(size) bytes; this stream's state has \(byteCount)")
        }
        let raw = UntrustedState(base: buffer, count: size)
        let magic = buffer.loadUnaligned(fromByteOffset: layout.header, as: UInt64.self)
        let hash = buffer.loadUnaligned(fromByteOffset: layout.header + 8, as: UInt64.self)
        guard magic == StreamHeader.magicValue, hash == layout.hash else {
            throw MimeticError.invalidArgument("snapshot does not come from a stream of this model and params")
        }
        let at = layout.header + Self.checksumOffset
        guard UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: at, as: UInt64.self)) == UntrustedState.checksum(buffer, count: size, skipping: at) else {
            throw MimeticError.invalidArgument("snapshot is corrupt (checksum mismatch): the stream was left as it was")
        }
        if let problem = problem(raw) {
            throw MimeticError.invalidArgument("snapshot is inconsistent (\(problem)): the stream was left as it was")
        }
        base.copyMemory(from: buffer, byteCount: byteCount)
        header.pointee.checksum = 0
    }

    /// Why the state at `raw` cannot be this stream's, or nil. Checks every Bool's byte before the
    /// header is read (any other byte there would be undefined behaviour), then each part.
    func problem(_ raw: UntrustedState) -> String? {
        let hdr = layout.header
        let flags = Self.flagOffsets
        guard raw.byte(hdr + flags.0) <= 1, raw.byte(hdr + flags.1) <= 1, raw.byte(hdr + flags.2) <= 1, raw.byte(hdr + flags.3) <= 1 else {
            return "a flag is neither 0 nor 1"
        }
        let h = raw.base.loadUnaligned(fromByteOffset: hdr, as: StreamHeader.self)
        let frames = h.framesDecoded
        guard (0...maxStreamCounter).contains(frames) else { return "\(frames) frames decoded" }
        guard h.encoderSeconds.isFinite, h.decoderSeconds.isFinite else { return "timing counters are not finite" }
        guard !h.basisDeltaActive || layout.basisDelta >= 0 else { return "a persona basis is active but the stream has no room for one" }
        if let p = input.problem(h.input, raw, audioOffset: layout.audio, historyOffset: layout.resamplerHistory) { return p }
        if let p = queue.problem(h.queue, raw, offsetsAt: layout.queueOffsets, recordsAt: layout.queueRecords, nextFrame: frames) { return p }
        let live = UnsafeRawPointer(base)
        if let cnn, let windows {
            if let p = cnn.problem(h.cnn, raw, live: live, oldestNeeded: windows.oldestCNNFrame(forFrame: frames)) { return p }
        }
        if let realtime {
            if let p = realtime.problem(h.realtime, raw, live: live, framesDone: frames) { return p }
            guard h.input.count <= maxStreamCounter - h.realtime.audioBase else { return "audio position out of range" }
        }
        // The decoder: everything but its scratch (rewritten before it is read) must be finite.
        let fd = model.frameDecoder.layout
        let ds = layout.decoderState
        if let i = raw.firstNonFinite(floatsAt: ds, count: fd.scratch) { return "decoder state value \(i) is out of range" }
        if let i = raw.firstNonFinite(floatsAt: ds + 4 * fd.token, count: fd.head - fd.token) { return "decoder state value \(fd.token + i) is out of range" }
        if let i = raw.firstNonFinite(floatsAt: ds + 4 * fd.first, count: fd.floats - fd.first) { return "decoder state value \(fd.first + i) is out of range" }
        if h.basisDeltaActive, let i = raw.firstNonFinite(floatsAt: layout.basisDelta, count: layout.outputSize * (model.config.decoder.d_model + 1)) {
            return "persona basis value \(i) is out of range"
        }
        return nil
    }

    /// Tests only: replaces the running input and first-layer GroupNorm statistics by fixed ones
    /// (e.g. the whole utterance's), isolating the window machinery from the statistics.
    func freezeStatistics(inputMean: Double, inputVariance: Double, channelMeans: [Double], channelVariances: [Double]) {
        cnn?.freezeStatistics(inputMean: inputMean, inputVariance: inputVariance, channelMeans: channelMeans, channelVariances: channelVariances)
    }
}
