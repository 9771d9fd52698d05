/// Resamples a whole signal from `from` Hz to `to` Hz with the band-limited
/// filter of `StreamingResampler` (see `KaiserSincKernel` for the design).
///
/// The filter's delay is compensated: output sample k is the input evaluated
/// at exactly time k/`to` (input sample i being at time i/`from`). The output
/// has ceil(x.count·to/from) samples, one for every output instant within the
/// input's duration. The signal is taken as silent outside the input, so
/// within 64 periods of the lower rate of either end the output shows the
/// filter's edge transient. Equal rates return `x` unchanged.
///
/// Measured on the implementation with sine sweeps, 8 kHz...192 kHz up and
/// down, including 44100 → 16001 (which uses the interpolated table):
/// passband ripple 0.0001 dB up to 0.9 × the lower Nyquist frequency;
/// stopband attenuation ≥ 99 dB from the lower Nyquist frequency up (98 dB at
/// the extreme 768000 → 1000); max error against an ideal 1 kHz sine
/// ≤ 1.5e-6 (Float rounding) away from the ends.
/// Latency is 64 periods of the lower rate (4 ms when one side is 16 kHz).
///
/// Both rates must be in `StreamingResampler.supportedRates`.
public func resample(_ x: [Float], from: Int, to: Int) -> [Float] {
    if from == to { return x }
    var resampler = StreamingResampler(inputRate: from, outputRate: to)
    let outputCount = resampler.maxOutputCount(forInput: x.count)
    return [Float](unsafeUninitializedCapacity: outputCount) { output, initialized in
        let processed = x.withUnsafeBufferPointer { resampler.process($0, into: output) }
        let flushed = resampler.flush(into: UnsafeMutableBufferPointer(rebasing: output[processed...]))
        assert(processed + flushed == outputCount)
        initialized = processed + flushed
    }
}
