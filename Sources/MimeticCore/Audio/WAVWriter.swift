
/// Sample encodings `writeWAV` can produce.
public enum WAVSampleFormat: Sendable {
    /// 16-bit integer PCM: x is stored as round(x * 32768), clipped to
    /// [-32768, 32767], so anything at or above 1 clips slightly below 1.
    case pcm16
    /// 32-bit IEEE float (format tag 3), stored exactly.
    case float32
}

/// Writes mono samples as a canonical 44-byte-header WAV file.
public func writeWAV(
    path: String, samples: [Float], sampleRate: Int, format: WAVSampleFormat = .pcm16
) throws {
    let bytes = try wavFileBytes(samples: samples, sampleRate: sampleRate, format: format, name: path)
    do {
        try writeFileBytes(bytes, toPath: path)
    } catch let failure as FileAccessFailure {
        throw WAVError.cannotWrite(path: path, reason: failure.reason)
    }
}

/// The bytes `writeWAV` would write; `name` stands in for the path in errors.
public func encodeWAV(
    samples: [Float], sampleRate: Int, format: WAVSampleFormat = .pcm16, name: String = "<memory>"
) throws -> [UInt8] {
    try wavFileBytes(samples: samples, sampleRate: sampleRate, format: format, name: name)
}

private func wavFileBytes(
    samples: [Float], sampleRate: Int, format: WAVSampleFormat, name: String
) throws -> [UInt8] {
    guard sampleRate > 0 && sampleRate <= Int(UInt32.max) else {
        throw WAVError.invalidSampleRate(path: name, sampleRate: sampleRate)
    }
    if let bad = samples.firstIndex(where: { !$0.isFinite }) {
        throw WAVError.nonFiniteSample(
            path: name, frame: bad, channel: 0, value: describeNonFinite(Double(samples[bad])))
    }
    let bytesPerSample = format == .pcm16 ? 2 : 4
    let dataBytes = samples.count * bytesPerSample
    // The RIFF size (dataBytes + 36) must fit in 32 bits.
    guard dataBytes <= Int(UInt32.max) - 36 else {
        throw WAVError.tooLongForWAV(path: name, sampleCount: samples.count)
    }

    var bytes: [UInt8] = []
    bytes.reserveCapacity(44 + dataBytes)
    bytes.appendASCII("RIFF")
    bytes.appendLittleEndian(UInt32(36 + dataBytes))
    bytes.appendASCII("WAVE")
    bytes.appendASCII("fmt ")
    bytes.appendLittleEndian(UInt32(16))
    bytes.appendLittleEndian(UInt16(format == .pcm16 ? 1 : 3))
    bytes.appendLittleEndian(UInt16(1))  // channels
    bytes.appendLittleEndian(UInt32(sampleRate))
    bytes.appendLittleEndian(UInt32(sampleRate * bytesPerSample))
    bytes.appendLittleEndian(UInt16(bytesPerSample))  // block align
    bytes.appendLittleEndian(UInt16(bytesPerSample * 8))
    bytes.appendASCII("data")
    bytes.appendLittleEndian(UInt32(dataBytes))
    switch format {
    case .pcm16:
        for sample in samples {
            let code = (Double(sample) * 32768).rounded().clamped(to: -32768...32767)
            bytes.appendLittleEndian(UInt16(bitPattern: Int16(code)))
        }
    case .float32:
        for sample in samples {
            bytes.appendLittleEndian(sample.bitPattern)
        }
    }
    return bytes
}

extension Double {
    fileprivate func clamped(to range: ClosedRange<Double>) -> Double {
        Swift.min(Swift.max(self, range.lowerBound), range.upperBound)
    }
}
