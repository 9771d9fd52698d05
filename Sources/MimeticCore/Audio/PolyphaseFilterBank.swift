import CKernels
/// The kernel pre-sampled at the sub-sample phases the resampler needs, one
/// row of taps per phase, so producing an output sample is one dot product.
///
/// Output sample k sits at input time k·M/L (L/M = outputRate/inputRate in
/// lowest terms), i.e. at input sample n plus phase r/L. The row for phase r
/// holds the kernel at offsets r/L + backwardTaps - 1 - j for taps
/// j = 0 ..< tapCount, which multiply input samples
/// n - backwardTaps + 1 ... n + forwardTaps.
///
/// When L rows would make the table large (unusual rate pairs such as
/// 44100 → 16001 have L in the thousands), the table instead holds
/// `interpolationPhases` + 1 evenly spaced rows and an output blends the dot
/// products of the two rows around its phase linearly. Memory stays at a few
/// hundred KiB and the extra error is negligible: 44100 → 16001 and
/// 8000 → 16001 measure the same ripple, stopband and sine error as the
/// exact tables of 44100 → 16000 and 8000 → 16000.
final class PolyphaseFilterBank: @unchecked Sendable {  // immutable after init
    /// Taps per row: a multiple of 16 so the dot product runs in whole SIMD16 steps.
    let tapCount: Int
    /// Input samples after an output's position that its taps reach.
    let forwardTaps: Int
    /// Input samples at or before an output's position that its taps reach;
    /// padding to a multiple of 16 goes here, where it costs history, not latency.
    let backwardTaps: Int
    /// L: phases per input sample in exact mode.
    let phaseCount: Int
    /// Rows minus one in interpolated mode; nil when every phase has its own row.
    let interpolationPhases: Int?

    private let rows: UnsafeMutablePointer<Float>

    /// A larger exact table than this (in floats) switches to interpolation.
    static let maxExactTableSize = 1 << 20

    init(kernel: KaiserSincKernel, phaseCount: Int, lowerRateFraction: Double) {
        let reach = Int(kernel.halfWidth.rounded(.up))
        forwardTaps = reach
        tapCount = (2 * reach + 15) / 16 * 16
        backwardTaps = tapCount - reach
        self.phaseCount = phaseCount

        let rowCount: Int
        if phaseCount * tapCount <= Self.maxExactTableSize {
            interpolationPhases = nil
            rowCount = phaseCount
        } else {
            // Linear interpolation error scales with (cutoff / phases)², and the
            // cutoff in input samples scales with lowerRateFraction.
            let phases = max(16, Int((1024 * lowerRateFraction).rounded(.up)))
            interpolationPhases = phases
            rowCount = phases + 1
        }

        let rowPhaseDenominator = Double(interpolationPhases ?? phaseCount)
        rows = .allocate(capacity: rowCount * tapCount)
        for row in 0..<rowCount {
            let phase = Double(row) / rowPhaseDenominator
            for tap in 0..<tapCount {
                let offset = phase + Double(backwardTaps - 1 - tap)
                rows[row * tapCount + tap] = Float(kernel.value(at: offset))
            }
        }
    }

    deinit {
        rows.deallocate()
    }

    /// The output for phase r/L (0 ≤ r < L) from the `tapCount` inputs at `window`.
    @inline(__always)
    func output(window: UnsafePointer<Float>, phase: Int) -> Float {
        guard let phases = interpolationPhases else {
            return dotProduct(window, rows + phase * tapCount, count: tapCount)
        }
        let scaled = phase * phases
        let row = scaled / phaseCount
        let fraction = Float(scaled - row * phaseCount) / Float(phaseCount)
        let below = dotProduct(window, rows + row * tapCount, count: tapCount)
        if fraction == 0 { return below }
        let above = dotProduct(window, rows + (row + 1) * tapCount, count: tapCount)
        return below + fraction * (above - below)
    }
}

/// Σ a[i]·b[i] for a count that is a multiple of 16: `tap_dot` (Sources/CKernels/tap_dot.c),
/// vectorised for the CPU at hand; Swift's SIMD16 here compiled to baseline four-wide SSE.
@inline(__always)
private func dotProduct(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
    tap_dot(a, b, Int32(count))
}
