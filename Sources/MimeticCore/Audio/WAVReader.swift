
/// Decoded audio from a WAV file, mixed down to mono.
public struct WAVAudio: Equatable {
    /// Mono samples (the mean of the file's channels), nominally in [-1, 1].
    public var samples: [Float]
    public var sampleRate: Int
    /// Channel count in the file, before mixing down.
    public var channels: Int
    /// The file's encoding in words, e.g. "16-bit PCM" or "32-bit float".
    public var sourceFormat: String

    public init(samples: [Float], sampleRate: Int, channels: Int, sourceFormat: String) {
        self.samples = samples
        self.sampleRate = sampleRate
        self.channels = channels
        self.sourceFormat = sourceFormat
    }

    public var duration: Double { Double(samples.count) / Double(sampleRate) }
}

public func readWAV(path: String) throws -> WAVAudio {
    let bytes: [UInt8]
    do {
        bytes = try readFileBytes(atPath: path)
    } catch let failure as FileAccessFailure {
        throw WAVError.cannotRead(path: path, reason: failure.reason)
    }
    return try readWAV(data: bytes, name: path)
}

/// Parses WAV bytes already in memory; `name` stands in for the path in errors.
public func readWAV(data: some Sequence<UInt8>, name: String) throws -> WAVAudio {
    try Array(data).withUnsafeBytes { try parseWAV($0, path: name) }
}

/// Parses WAV bytes the caller owns (the C ABI's in-memory read), without copying them.
public func readWAV(bytes: UnsafeRawBufferPointer, name: String) throws -> WAVAudio {
    try parseWAV(bytes, path: name)
}

/// RIFF layout: "RIFF" <size> "WAVE", then chunks of <id> <size> <body>, each
/// body padded to an even length. The decisions on malformed input:
/// - The RIFF size field is ignored; the real length of the bytes is used.
///   Many writers get it wrong (streaming tools write 0 or 0xFFFFFFFF), and
///   it carries no information the chunks don't.
/// - Chunks may come in any order; unknown ones (LIST, fact, cue, bext, ...)
///   are skipped, including their pad byte when their size is odd.
/// - Scanning stops once both "fmt " and "data" are found, so broken metadata
///   after the audio cannot make a good file unreadable. A chunk that runs
///   past the end of the file also ends the scan; what is missing by then is
///   reported as a missing chunk.
/// - A "fmt " chunk that runs past the end of the file is malformed: its
///   fields cannot be trusted.
/// - Only the first "fmt " and "data" chunks are used.
/// - A data chunk that declares more bytes than the file holds is an error
///   (`truncatedData`), not silently shortened: the caller would otherwise
///   animate a clip that ends early without knowing why.
/// - A data size that is not a whole number of frames is an error
///   (`partialFrame`), as is a file with no frames (`emptyAudio`).
private func parseWAV(_ bytes: UnsafeRawBufferPointer, path: String) throws -> WAVAudio {
    guard bytes.count >= 12 else { throw WAVError.tooShort(path: path, byteCount: bytes.count) }
    let riff = bytes.fourCharacterCode(at: 0)
    guard riff == "RIFF" else { throw WAVError.notRIFF(path: path, found: riff) }
    let form = bytes.fourCharacterCode(at: 8)
    guard form == "WAVE" else { throw WAVError.notWAVE(path: path, found: form) }

    var format: WAVFormat?
    var dataChunk: UnsafeRawBufferPointer?
    var offset = 12
    while offset + 8 <= bytes.count, format == nil || dataChunk == nil {
        let id = bytes.fourCharacterCode(at: offset)
        let size = Int(bytes.littleEndianUInt32(at: offset + 4))
        let bodyStart = offset + 8
        let present = bytes.count - bodyStart
        if id == "fmt " && format == nil {
            guard size <= present else {
                throw WAVError.malformedFormatChunk(
                    path: path, reason: "it declares \(size) bytes but only \(present) remain in the file")
            }
            format = try parseWAVFormat(
                UnsafeRawBufferPointer(rebasing: bytes[bodyStart..<bodyStart + size]), path: path)
        } else if id == "data" && dataChunk == nil {
            guard size <= present else {
                throw WAVError.truncatedData(path: path, expectedBytes: size, presentBytes: present)
            }
            dataChunk = UnsafeRawBufferPointer(rebasing: bytes[bodyStart..<bodyStart + size])
        }
        offset = bodyStart + size + (size & 1)
    }

    guard let format else { throw WAVError.missingFormatChunk(path: path) }
    guard let dataChunk else { throw WAVError.missingDataChunk(path: path) }
    guard dataChunk.count % format.blockAlign == 0 else {
        throw WAVError.partialFrame(path: path, dataBytes: dataChunk.count, blockAlign: format.blockAlign)
    }
    let frameCount = dataChunk.count / format.blockAlign
    guard frameCount > 0 else { throw WAVError.emptyAudio(path: path) }

    let samples = try decodeMonoSamples(dataChunk, format: format, frameCount: frameCount, path: path)
    return WAVAudio(
        samples: samples, sampleRate: format.sampleRate, channels: format.channels,
        sourceFormat: format.summary)
}
