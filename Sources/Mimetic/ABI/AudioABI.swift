import CMimeticABI
import MimeticCore

/// WAV decoding for callers: `mimetic_wav_read` (a path), `mimetic_wav_read_memory` (bytes) and
/// `mimetic_audio_free`. The samples are malloc'd, so that freeing needs nothing of Swift's.

/// The oldest `mimetic_audio` a caller may pass: this first version's.
private let oldestAudio = MemoryLayout<mimetic_audio>.stride

private func deliver(_ wav: WAVAudio, rate: Int32, name: String, to out: UnsafeMutablePointer<mimetic_audio>, function: String) throws {
    var samples = wav.samples
    var outRate = wav.sampleRate
    if rate != 0 {
        guard StreamingResampler.supportedRates.contains(Int(rate)) else {
            throw MimeticError.invalidArgument("\(function): sample_rate \(rate) is outside \(StreamingResampler.supportedRates.lowerBound)...\(StreamingResampler.supportedRates.upperBound) Hz (0 keeps the file's)")
        }
        guard StreamingResampler.supportedRates.contains(wav.sampleRate) else {
            throw MimeticError.invalidAudio("\(name): the file's rate \(wav.sampleRate) Hz is outside the resampler's \(StreamingResampler.supportedRates.lowerBound)...\(StreamingResampler.supportedRates.upperBound) Hz")
        }
        samples = resample(samples, from: wav.sampleRate, to: Int(rate))
        outRate = Int(rate)
    }
    guard let buffer = malloc(max(samples.count, 1) * MemoryLayout<Float>.stride)?.assumingMemoryBound(to: Float.self) else {
        throw MimeticError.io("\(function): out of memory for \(samples.count) samples")
    }
    samples.withUnsafeBufferPointer { buffer.update(from: $0.baseAddress!, count: samples.count) }
    var v = mimetic_audio()
    v.samples = buffer
    v.n_samples = samples.count
    v.sample_rate = Int32(outRate)
    v.channels = Int32(clamping: wav.channels)
    v.file_sample_rate = Int32(clamping: wav.sampleRate)
    do {
        try VersionedStruct.write(v, to: UnsafeMutableRawPointer(out), oldest: oldestAudio, function: function,
                                  hint: "set it to sizeof(mimetic_audio)")
    } catch {
        free(buffer)
        throw error
    }
}

/// Clears the caller's struct (past struct_size) so that a failed read leaves no samples to free.
private func clear(_ out: UnsafeMutablePointer<mimetic_audio>) {
    let size = UnsafeRawPointer(out).load(as: Int.self)
    guard size >= oldestAudio, size <= MemoryLayout<mimetic_audio>.stride + 4096 else { return }
    (UnsafeMutableRawPointer(out) + MemoryLayout<Int>.size).initializeMemory(as: UInt8.self, repeating: 0,
                                                                           count: min(size, MemoryLayout<mimetic_audio>.stride) - MemoryLayout<Int>.size)
}

@_cdecl("mimetic_wav_read")
public func mimetic_wav_read(_ path: UnsafePointer<CChar>?, _ rate: Int32, _ out: UnsafeMutablePointer<mimetic_audio>?) -> Int32 {
    guard let out else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_wav_read: out is NULL") }
    clear(out)
    guard let path else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_wav_read: path is NULL") }
    return guarded {
        let name = String(cString: path)
        try deliver(try readWAV(path: name), rate: rate, name: name, to: out, function: "mimetic_wav_read")
        return MIMETIC_OK
    }
}

@_cdecl("mimetic_wav_read_memory")
public func mimetic_wav_read_memory(_ data: UnsafeRawPointer?, _ size: UInt, _ rate: Int32, _ out: UnsafeMutablePointer<mimetic_audio>?) -> Int32 {
    guard let out else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_wav_read_memory: out is NULL") }
    clear(out)
    guard let data else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "mimetic_wav_read_memory: data is NULL") }
    return guarded {
        let count = try CallerSize.count(size, "size", function: "mimetic_wav_read_memory")
        let wav = try readWAV(bytes: UnsafeRawBufferPointer(start: data, count: count), name: "<memory>")
        try deliver(wav, rate: rate, name: "<memory>", to: out, function: "mimetic_wav_read_memory")
        return MIMETIC_OK
    }
}

@_cdecl("mimetic_audio_free")
public func mimetic_audio_free(_ audio: UnsafeMutablePointer<mimetic_audio>?) {
    guard let audio else { return }
    let size = UnsafeRawPointer(audio).load(as: Int.self)
    guard size >= oldestAudio else { return }   // not a mimetic_audio we could have filled
    free(audio.pointee.samples)
    audio.pointee.samples = nil
    audio.pointee.n_samples = 0
}
