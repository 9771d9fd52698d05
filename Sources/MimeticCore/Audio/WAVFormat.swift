/// How samples are stored in a WAV file's data chunk, from its "fmt " chunk.
struct WAVFormat {
    enum Encoding: String {
        case pcm = "PCM"
        case float = "float"
    }

    var encoding: Encoding
    var channels: Int
    var sampleRate: Int
    var blockAlign: Int
    /// The container size; for WAVE_FORMAT_EXTENSIBLE the meaningful bits may
    /// be fewer (`validBits`), left-justified in the container, so decoding by
    /// container size gives the right value either way.
    var bitsPerSample: Int
    var isExtensible: Bool
    var validBits: Int

    var bytesPerSample: Int { bitsPerSample / 8 }

    var summary: String {
        var text: String
        switch (encoding, bitsPerSample) {
        case (.pcm, 8): text = "8-bit unsigned PCM"
        case (.pcm, _): text = "\(bitsPerSample)-bit PCM"
        case (.float, _): text = "\(bitsPerSample)-bit float"
        }
        if isExtensible {
            text += validBits < bitsPerSample
                ? " (WAVE_FORMAT_EXTENSIBLE, \(validBits) valid bits)"
                : " (WAVE_FORMAT_EXTENSIBLE)"
        }
        return text
    }
}

private let formatTagPCM = 0x0001
private let formatTagFloat = 0x0003
private let formatTagExtensible = 0xFFFE

/// Bytes 2...15 of the KSDATAFORMAT_SUBTYPE_* GUIDs; bytes 0...1 hold the
/// plain format tag (1 = PCM, 3 = float).
private let subformatGUIDTail: [UInt8] = [
    0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
]

/// Names for the tags people actually run into, so the error says "ADPCM (2)"
/// rather than a bare number.
func wavFormatTagName(_ tag: Int) -> String {
    switch tag {
    case 0x0000: return "unknown"
    case 0x0001: return "PCM"
    case 0x0002: return "ADPCM"
    case 0x0003: return "IEEE float"
    case 0x0006: return "A-law"
    case 0x0007: return "µ-law"
    case 0x0011: return "IMA ADPCM"
    case 0x0031: return "GSM 6.10"
    case 0x0050: return "MPEG"
    case 0x0055: return "MPEG Layer 3"
    case 0x0092: return "Dolby AC-3 SPDIF"
    case 0x00FF: return "AAC"
    case 0x0161, 0x0162, 0x0163: return "Windows Media Audio"
    case 0x1610: return "HE-AAC"
    case 0xF1AC: return "FLAC"
    case 0xFFFE: return "WAVE_FORMAT_EXTENSIBLE"
    default: return "format tag 0x\(String(tag, radix: 16, uppercase: true))"
    }
}

/// Parses and validates a "fmt " chunk body.
func parseWAVFormat(_ chunk: UnsafeRawBufferPointer, path: String) throws -> WAVFormat {
    guard chunk.count >= 16 else {
        throw WAVError.malformedFormatChunk(
            path: path, reason: "it is \(chunk.count) bytes, but needs at least 16")
    }
    let tag = Int(chunk.littleEndianUInt16(at: 0))
    let channels = Int(chunk.littleEndianUInt16(at: 2))
    let sampleRate = Int(chunk.littleEndianUInt32(at: 4))
    // Bytes 8...11 (average bytes per second) are redundant and often wrong
    // in files from sloppy writers; nothing depends on them, so they are ignored.
    let blockAlign = Int(chunk.littleEndianUInt16(at: 12))
    let bitsPerSample = Int(chunk.littleEndianUInt16(at: 14))

    var encoding: WAVFormat.Encoding
    var validBits = bitsPerSample
    let isExtensible = tag == formatTagExtensible
    switch tag {
    case formatTagPCM:
        encoding = .pcm
    case formatTagFloat:
        encoding = .float
    case formatTagExtensible:
        guard chunk.count >= 40 else {
            throw WAVError.malformedFormatChunk(
                path: path,
                reason: "WAVE_FORMAT_EXTENSIBLE needs 40 bytes, but the chunk is \(chunk.count)")
        }
        // cbSize (bytes 16...17) is not checked: the 40-byte length already
        // guarantees the fields below are present.
        let declaredValidBits = Int(chunk.littleEndianUInt16(at: 18))
        // 0 means "same as the container" in some writers.
        if declaredValidBits > 0 && declaredValidBits <= bitsPerSample {
            validBits = declaredValidBits
        }
        let guid = UnsafeRawBufferPointer(rebasing: chunk[24..<40])
        let subformat = Int(guid.littleEndianUInt16(at: 0))
        guard Array(guid[2..<16]) == subformatGUIDTail else {
            throw WAVError.unsupportedFormat(
                path: path, formatTag: tag,
                name: "WAVE_FORMAT_EXTENSIBLE with unknown subformat \(guidString(guid))")
        }
        switch subformat {
        case formatTagPCM: encoding = .pcm
        case formatTagFloat: encoding = .float
        default:
            throw WAVError.unsupportedFormat(
                path: path, formatTag: subformat,
                name: "\(wavFormatTagName(subformat)) inside WAVE_FORMAT_EXTENSIBLE")
        }
    default:
        throw WAVError.unsupportedFormat(path: path, formatTag: tag, name: wavFormatTagName(tag))
    }

    guard channels > 0 else { throw WAVError.zeroChannels(path: path) }
    guard sampleRate > 0 else { throw WAVError.zeroSampleRate(path: path) }
    let supportedBits = encoding == .pcm ? [8, 16, 24, 32] : [32, 64]
    guard supportedBits.contains(bitsPerSample) else {
        throw WAVError.unsupportedBitsPerSample(
            path: path, bits: bitsPerSample, encoding: encoding.rawValue)
    }
    // Decoding steps through the data in blockAlign strides, so a value that
    // disagrees with the sample layout would read garbage: refuse it.
    guard blockAlign == channels * bitsPerSample / 8 else {
        throw WAVError.inconsistentBlockAlign(
            path: path, blockAlign: blockAlign, channels: channels, bytesPerSample: bitsPerSample / 8)
    }
    return WAVFormat(
        encoding: encoding, channels: channels, sampleRate: sampleRate, blockAlign: blockAlign,
        bitsPerSample: bitsPerSample, isExtensible: isExtensible, validBits: validBits)
}

private func guidString(_ bytes: UnsafeRawBufferPointer) -> String {
    let hex = bytes.map { byte -> String in
        let digits = String(byte, radix: 16, uppercase: true)
        return byte < 16 ? "0" + digits : digits
    }
    return "{" + hex[0..<4].reversed().joined() + "-" + hex[4..<6].reversed().joined() + "-"
        + hex[6..<8].reversed().joined() + "-" + hex[8..<10].joined() + "-"
        + hex[10..<16].joined() + "}"
}
