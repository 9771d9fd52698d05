/// Turns the bytes of a data chunk into mono Float samples: each frame's
/// channels are averaged. Integer PCM is scaled so the most negative code
/// maps to exactly -1 (divide by 2^(bits-1)); 8-bit PCM is unsigned with 128
/// as zero, as the WAV format defines it.
func decodeMonoSamples(
    _ data: UnsafeRawBufferPointer, format: WAVFormat, frameCount: Int, path: String
) throws -> [Float] {
    switch (format.encoding, format.bitsPerSample) {
    case (.pcm, 8):
        return mixToMono(data, format: format, frameCount: frameCount) { pointer in
            (Double(pointer.load(as: UInt8.self)) - 128) / 128
        }
    case (.pcm, 16):
        return mixToMono(data, format: format, frameCount: frameCount) { pointer in
            Double(Int16(littleEndian: pointer.loadUnaligned(as: Int16.self))) / 32768
        }
    case (.pcm, 24):
        return mixToMono(data, format: format, frameCount: frameCount) { pointer in
            let unsigned = Int32(pointer.load(fromByteOffset: 0, as: UInt8.self))
                | Int32(pointer.load(fromByteOffset: 1, as: UInt8.self)) << 8
                | Int32(pointer.load(fromByteOffset: 2, as: UInt8.self)) << 16
            return Double((unsigned << 8) >> 8) / 8_388_608  // sign-extend from bit 23
        }
    case (.pcm, 32):
        return mixToMono(data, format: format, frameCount: frameCount) { pointer in
            Double(Int32(littleEndian: pointer.loadUnaligned(as: Int32.self))) / 2_147_483_648
        }
    case (.float, 32):
        try checkFinite(data, format: format, frameCount: frameCount, path: path) { pointer in
            Double(Float(bitPattern: UInt32(littleEndian: pointer.loadUnaligned(as: UInt32.self))))
        }
        return mixToMono(data, format: format, frameCount: frameCount) { pointer in
            Double(Float(bitPattern: UInt32(littleEndian: pointer.loadUnaligned(as: UInt32.self))))
        }
    case (.float, 64):
        try checkFinite(data, format: format, frameCount: frameCount, path: path) { pointer in
            Double(bitPattern: UInt64(littleEndian: pointer.loadUnaligned(as: UInt64.self)))
        }
        return mixToMono(data, format: format, frameCount: frameCount) { pointer in
            Double(bitPattern: UInt64(littleEndian: pointer.loadUnaligned(as: UInt64.self)))
        }
    default:
        // parseWAVFormat only lets the combinations above through.
        preconditionFailure("unvalidated WAV format \(format.summary)")
    }
}

/// Averages channels in Double and rounds to Float once, so mono files and
/// float64 files lose nothing beyond the final Float rounding.
@inline(__always)
private func mixToMono(
    _ data: UnsafeRawBufferPointer, format: WAVFormat, frameCount: Int,
    sample: (UnsafeRawPointer) -> Double
) -> [Float] {
    guard let base = data.baseAddress else { return [] }
    let channels = format.channels
    let sampleBytes = format.bytesPerSample
    let frameBytes = format.blockAlign
    return [Float](unsafeUninitializedCapacity: frameCount) { output, initialized in
        if channels == 1 {
            for frame in 0..<frameCount {
                output[frame] = Float(sample(base + frame * frameBytes))
            }
        } else {
            let divisor = Double(channels)
            for frame in 0..<frameCount {
                let frameStart = base + frame * frameBytes
                var sum = 0.0
                for channel in 0..<channels {
                    sum += sample(frameStart + channel * sampleBytes)
                }
                output[frame] = Float(sum / divisor)
            }
        }
        initialized = frameCount
    }
}

/// A NaN or infinity would silently poison everything downstream (features,
/// network activations), so float files are checked up front and the first
/// bad sample is reported.
@inline(__always)
private func checkFinite(
    _ data: UnsafeRawBufferPointer, format: WAVFormat, frameCount: Int, path: String,
    sample: (UnsafeRawPointer) -> Double
) throws {
    guard let base = data.baseAddress else { return }
    for frame in 0..<frameCount {
        for channel in 0..<format.channels {
            let value = sample(base + frame * format.blockAlign + channel * format.bytesPerSample)
            if !value.isFinite {
                throw WAVError.nonFiniteSample(
                    path: path, frame: frame, channel: channel, value: describeNonFinite(value))
            }
        }
    }
}

func describeNonFinite(_ value: Double) -> String {
    value.isNaN ? "NaN" : (value > 0 ? "+infinity" : "-infinity")
}
