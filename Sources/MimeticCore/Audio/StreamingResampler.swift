/// Band-limited sample-rate conversion for audio arriving in pieces, safe to
/// call from a real-time audio thread: `process` does not allocate, lock or
/// make system calls (it works in a history buffer allocated at creation).
///
/// Timing: output sample k is the input signal evaluated at time k/outputRate
/// exactly, with input sample i at time i/inputRate; there is no time shift.
/// The filter's look-ahead shows up as latency instead: output k can only be
/// produced once input sample floor(k·inputRate/outputRate) + `latency` has
/// arrived. Input before the first sample is taken as silence. After the last
/// input, `flush` produces the outputs still owed, treating the input after
/// the end as silence too. In all, n input samples give ceil(n·outputRate /
/// inputRate) output samples.
///
/// The filter (see `KaiserSincKernel`) passes 0...0.9 of the lower Nyquist
/// frequency flat and stops everything from the lower Nyquist frequency up.
/// Equal rates pass samples through unchanged with no latency.
///
/// Copies share the read-only filter tables; the history is copied on the
/// first `process` after a copy (so copy outside the audio thread).
public struct StreamingResampler: Sendable {
    /// Rates the resampler accepts. 8 kHz...192 kHz is what is tested; the
    /// bounds only keep the filter tables and per-sample work reasonable.
    public static let supportedRates: ClosedRange<Int> = 1_000...768_000

    public let inputRate: Int
    public let outputRate: Int
    /// Input samples of look-ahead (see the type's description).
    public var latency: Int { filter?.forwardTaps ?? 0 }

    /// L and M: outputRate / inputRate in lowest terms.
    private let upFactor: Int
    private let downFactor: Int
    /// nil when the rates are equal.
    private let filter: PolyphaseFilterBank?

    private var history: [Float]
    /// Samples of `history` holding input (or leading silence).
    private var filled = 0
    /// Index in `history` of the first tap for the next output.
    private var windowStart = 0
    /// Sub-sample position of the next output, in 1/upFactor steps.
    private var phase = 0
    private var inputCount = 0
    private var outputCount = 0

    public init(inputRate: Int, outputRate: Int) {
        precondition(
            Self.supportedRates.contains(inputRate) && Self.supportedRates.contains(outputRate),
            "resampling \(inputRate) Hz → \(outputRate) Hz: rates must be in \(Self.supportedRates) Hz")
        self.inputRate = inputRate
        self.outputRate = outputRate
        let divisor = greatestCommonDivisor(inputRate, outputRate)
        upFactor = outputRate / divisor
        downFactor = inputRate / divisor
        if inputRate == outputRate {
            filter = nil
            history = []
        } else {
            let lowerRateFraction = min(1, Double(outputRate) / Double(inputRate))
            let bank = PolyphaseFilterBank(
                kernel: KaiserSincKernel(lowerRateFraction: lowerRateFraction),
                phaseCount: upFactor, lowerRateFraction: lowerRateFraction)
            filter = bank
            // Room for one window, the farthest one output step can jump, and
            // a block of input, so the window's samples are moved back to the
            // start only once per ~4096 input samples.
            let capacity = bank.tapCount + downFactor / upFactor + 1 + 4096
            history = [Float](repeating: 0, count: capacity)
        }
        reset()
    }

    /// The most samples `process` can write for `count` input samples; the
    /// output buffer passed to `process` must be at least this long.
    /// Equal to ceil(count·outputRate / inputRate).
    public func maxOutputCount(forInput count: Int) -> Int {
        (count * upFactor + downFactor - 1) / downFactor
    }

    /// ceil(count·outputRate / inputRate): the samples a whole signal of `count` becomes (what
    /// `resample(_:from:to:)` returns), without building a resampler.
    public static func outputCount(forInput count: Int, inputRate: Int, outputRate: Int) -> Int {
        let divisor = greatestCommonDivisor(inputRate, outputRate)
        let up = outputRate / divisor, down = inputRate / divisor
        return (count * up + down - 1) / down
    }

    /// Exactly how many samples `flush` will write now.
    public var pendingOutputCount: Int {
        (inputCount * upFactor + downFactor - 1) / downFactor - outputCount
    }

    /// Consumes all of `input` and writes the outputs that became computable;
    /// returns how many. `output.count` must be ≥ `maxOutputCount(forInput:)`.
    public mutating func process(
        _ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>
    ) -> Int {
        precondition(
            output.count >= maxOutputCount(forInput: input.count),
            "StreamingResampler.process: output has room for \(output.count) samples, "
                + "needs maxOutputCount(forInput: \(input.count)) = \(maxOutputCount(forInput: input.count))")
        guard filter != nil else {
            if let source = input.baseAddress, let destination = output.baseAddress {
                destination.update(from: source, count: input.count)
            }
            return input.count
        }
        inputCount += input.count
        let written = run(input: input.baseAddress, count: input.count, output: output, limit: output.count)
        outputCount += written
        return written
    }

    /// Writes the outputs still owed for the input so far (their look-ahead
    /// reaching past the end is filled with silence), returns how many, and
    /// resets. `output.count` must be ≥ `pendingOutputCount`.
    public mutating func flush(into output: UnsafeMutableBufferPointer<Float>) -> Int {
        let pending = pendingOutputCount
        precondition(
            output.count >= pending,
            "StreamingResampler.flush: output has room for \(output.count) samples, needs \(pending)")
        var written = 0
        if pending > 0 {
            // Silence up to the last input sample the last owed output's taps reach.
            let lastOutputPosition = (outputCount + pending - 1) * downFactor / upFactor
            let silence = lastOutputPosition + latency + 1 - inputCount
            written = run(input: nil, count: silence, output: output, limit: pending)
        }
        reset()
        return written
    }

    /// Forgets all input, as if newly created.
    public mutating func reset() {
        inputCount = 0
        outputCount = 0
        phase = 0
        windowStart = 0
        guard let filter else { return }
        // Silence before the first sample, so output 0's window is complete.
        filled = filter.backwardTaps - 1
        history.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress!.update(repeating: 0, count: filled)
        }
    }

    /// Feeds `count` samples from `input` (silence when nil) through the
    /// history, writing outputs as soon as each is computable, but no more
    /// than `limit`. Only `flush` needs the limit: when upsampling, the
    /// silence it feeds also completes outputs beyond the ones owed.
    private mutating func run(
        input: UnsafePointer<Float>?, count: Int, output: UnsafeMutableBufferPointer<Float>, limit: Int
    ) -> Int {
        guard let filter else { return 0 }
        let outputBase = output.baseAddress  // nil only when limit is 0
        let tapCount = filter.tapCount
        let stepWhole = downFactor / upFactor
        let stepFraction = downFactor % upFactor
        let phases = upFactor
        var filled = self.filled
        var windowStart = self.windowStart
        var phase = self.phase
        var consumed = 0
        var written = 0

        history.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            let capacity = buffer.count
            while true {
                while written < limit && windowStart + tapCount <= filled {
                    outputBase![written] = filter.output(window: base + windowStart, phase: phase)
                    written += 1
                    windowStart += stepWhole
                    phase += stepFraction
                    if phase >= phases {
                        phase -= phases
                        windowStart += 1
                    }
                }
                if consumed == count { break }
                if filled == capacity {
                    // Drop what no future window needs. A downsampling step
                    // can jump past everything buffered, hence the min.
                    let dropped = min(windowStart, filled)
                    UnsafeMutableRawPointer(base).copyMemory(  // memmove: the ranges overlap
                        from: base + dropped, byteCount: (filled - dropped) * MemoryLayout<Float>.stride)
                    filled -= dropped
                    windowStart -= dropped
                }
                let taken = min(capacity - filled, count - consumed)
                if let input {
                    (base + filled).update(from: input + consumed, count: taken)
                } else {
                    (base + filled).update(repeating: 0, count: taken)
                }
                filled += taken
                consumed += taken
            }
        }
        self.filled = filled
        self.windowStart = windowStart
        self.phase = phase
        return written
    }
}

private func greatestCommonDivisor(_ a: Int, _ b: Int) -> Int {
    var (a, b) = (a, b)
    while b != 0 { (a, b) = (b, a % b) }
    return a
}


/// The resampler split for streams that keep all their state in one caller-owned buffer:
/// the immutable part (rates, filter tables) and a plain-data state plus a history region the
/// caller places wherever it likes. Same algorithm and results as `StreamingResampler`.
final class ResamplerKernel: @unchecked Sendable {
    /// Counters of one resampling stream; trivially copyable (a stream snapshot is a memcpy).
    struct State {
        var filled = 0
        var windowStart = 0
        var phase = 0
        var inputCount = 0
        var outputCount = 0
    }

    let inputRate: Int, outputRate: Int
    let upFactor: Int, downFactor: Int
    let filter: PolyphaseFilterBank
    /// Floats of history the state needs.
    let historyCapacity: Int
    var latency: Int { filter.forwardTaps }

    /// nil when the rates are equal (no resampling needed).
    init?(inputRate: Int, outputRate: Int) {
        guard inputRate != outputRate else { return nil }
        precondition(StreamingResampler.supportedRates.contains(inputRate) && StreamingResampler.supportedRates.contains(outputRate))
        self.inputRate = inputRate
        self.outputRate = outputRate
        let divisor = greatestCommonDivisor(inputRate, outputRate)
        upFactor = outputRate / divisor
        downFactor = inputRate / divisor
        let lowerRateFraction = min(1, Double(outputRate) / Double(inputRate))
        filter = PolyphaseFilterBank(kernel: KaiserSincKernel(lowerRateFraction: lowerRateFraction),
                                     phaseCount: upFactor, lowerRateFraction: lowerRateFraction)
        historyCapacity = filter.tapCount + downFactor / upFactor + 1 + 1024
    }

    func maxOutputCount(forInput count: Int) -> Int { (count * upFactor + downFactor - 1) / downFactor }

    func pendingOutputCount(_ s: State) -> Int { (s.inputCount * upFactor + downFactor - 1) / downFactor - s.outputCount }

    func reset(_ s: inout State, history: UnsafeMutablePointer<Float>) {
        s = State()
        s.filled = filter.backwardTaps - 1
        history.update(repeating: 0, count: s.filled)
    }

    /// Consumes `count` inputs (silence when nil), writing at most `limit` outputs; returns how many.
    func process(_ s: inout State, history: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>?, count: Int,
                 output: UnsafeMutablePointer<Float>, limit: Int, countsAsInput: Bool = true) -> Int {
        if countsAsInput { s.inputCount += count }
        let tapCount = filter.tapCount
        let stepWhole = downFactor / upFactor, stepFraction = downFactor % upFactor
        var consumed = 0, written = 0
        while true {
            while written < limit && s.windowStart + tapCount <= s.filled {
                output[written] = filter.output(window: history + s.windowStart, phase: s.phase)
                written += 1
                s.windowStart += stepWhole
                s.phase += stepFraction
                if s.phase >= upFactor { s.phase -= upFactor; s.windowStart += 1 }
            }
            if consumed == count { break }
            if s.filled == historyCapacity {
                let dropped = min(s.windowStart, s.filled)
                UnsafeMutableRawPointer(history).copyMemory(from: history + dropped, byteCount: (s.filled - dropped) * 4)
                s.filled -= dropped
                s.windowStart -= dropped
            }
            let taken = min(historyCapacity - s.filled, count - consumed)
            if let input { (history + s.filled).update(from: input + consumed, count: taken) } else { (history + s.filled).update(repeating: 0, count: taken) }
            s.filled += taken
            consumed += taken
        }
        s.outputCount += written
        return written
    }

    /// Writes the outputs still owed (their look-ahead past the end taken as silence).
    func flush(_ s: inout State, history: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>) -> Int {
        let pending = pendingOutputCount(s)
        guard pending > 0 else { return 0 }
        let lastOutputPosition = (s.outputCount + pending - 1) * downFactor / upFactor
        let silence = lastOutputPosition + latency + 1 - s.inputCount
        return process(&s, history: history, input: nil, count: max(0, silence), output: output, limit: pending, countsAsInput: false)
    }
}

extension ResamplerKernel {
    /// Why `s` cannot be a state of this resampler (restored from outside), or nil.
    func problem(_ s: State) -> String? {
        guard (0...historyCapacity).contains(s.filled), (0...s.filled).contains(s.windowStart), (0..<upFactor).contains(s.phase),
              (0...maxStreamCounter).contains(s.inputCount), (0...maxOutputCount(forInput: s.inputCount)).contains(s.outputCount) else {
            return "resampler counters out of range (filled \(s.filled) of \(historyCapacity), window \(s.windowStart), phase \(s.phase) of \(upFactor), in \(s.inputCount), out \(s.outputCount))"
        }
        return nil
    }
}
