/// Speech at any rate in, the model's input out: the one path every whole-utterance caller takes
/// (`mimetic animate`, `mimetic_animate`, `mimetic_wav_read` + `mimetic_animate`, Python's
/// `Model.animate`), so that they all give the same numbers.
extension MimeticModel {
    /// Samples at `sampleRate` Hz resampled to the model's rate with the offline band-limited
    /// resampler (`resample(_:from:to:)`), unchanged when the rates are equal. `name` (a path, or
    /// the calling function) names the audio in errors.
    public func speech(_ samples: [Float], sampleRate: Int, name: String) throws -> [Float] {
        try Self.checkSampleRate(sampleRate, name: name)
        if let i = samples.firstIndex(where: { !$0.isFinite }) {
            throw MimeticError.invalidAudio("\(name): sample \(i) is \(samples[i]) (NaN or Inf)")
        }
        let converted = sampleRate == config.sample_rate ? samples : resample(samples, from: sampleRate, to: config.sample_rate)
        guard converted.count >= minimumSamples else {
            let have = formatted("%.1f", 1000 * Double(samples.count) / Double(sampleRate))
            let need = formatted("%.1f", 1000 * Double(minimumSamples) / Double(config.sample_rate))
            throw MimeticError.invalidAudio("\(name): \(have) ms of audio is too short: the model needs at least \(need) ms")
        }
        return converted
    }

    /// Motion frames that `n` samples at `sampleRate` make once resampled to the model's rate
    /// (0 when they are too short for one frame), without touching the audio.
    public func frameCount(samples n: Int, sampleRate: Int) throws -> Int {
        try Self.checkSampleRate(sampleRate, name: "frame count")
        let converted = StreamingResampler.outputCount(forInput: n, inputRate: sampleRate, outputRate: config.sample_rate)
        return converted < minimumSamples ? 0 : frameCount(samples: converted)
    }

    static func checkSampleRate(_ rate: Int, name: String) throws {
        guard StreamingResampler.supportedRates.contains(rate) else {
            throw MimeticError.invalidAudio("\(name): sample rate \(rate) Hz is outside the supported \(StreamingResampler.supportedRates.lowerBound)...\(StreamingResampler.supportedRates.upperBound) Hz")
        }
    }
}
