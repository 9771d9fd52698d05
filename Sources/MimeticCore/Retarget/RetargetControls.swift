/// The artist's controls on retargeted weights, applied after the fit, per channel c:
///
///     smooth(w)_c = previous + α (w_c − previous),  α = 1 − exp(−frameTime / smoothing)   (one-pole)
///     out_c       = clamp(strength · gain_c · smooth(w)_c + offset_c, minimum_c, maximum_c)
///
/// Defaults are the identity: strength 1, gain 1, offset 0, no smoothing, no closure boost, clamp
/// [−∞, ∞] (the fit's bounds already hold the raw weights).
public struct RetargetControls: Equatable, Sendable {
    /// Overall strength of the motion (0: neutral face; 1: as fitted). 0...4.
    public var strength: Float = 1
    /// One-pole smoothing time constant in milliseconds (0: none). 0...1000.
    public var smoothingMs: Float = 0
    /// The motion frame rate the smoothing is computed for (the model's fps).
    public var fps: Float = 30
    /// Lip-closure boost, 0...1: on frames where the closure channels are already up (s = the
    /// largest of them over its upper bound), each closure channel moves toward its upper bound by
    /// closureBoost · s² of the way: firmer m/b/p closures on a rig whose closures read weak, and
    /// nothing on open frames (s² keeps it to the closures).
    public var closureBoost: Float = 0
    /// The closure channels (set by `Retarget` from the names: mouthClose, mouthPressLeft/Right, PP).
    public var closureChannels: [Int] = []
    /// Upper bounds of the channels (set by `Retarget`), for the boost.
    var channelUpper: [Float] = []
    public var gain: [Float]
    public var offset: [Float]
    public var minimum: [Float]
    public var maximum: [Float]

    public init(count: Int) {
        gain = [Float](repeating: 1, count: count)
        offset = [Float](repeating: 0, count: count)
        minimum = [Float](repeating: -.infinity, count: count)
        maximum = [Float](repeating: .infinity, count: count)
    }

    /// `controls` if every value is valid for `count` channels; the message names the first bad one.
    public static func checked(_ controls: RetargetControls, count: Int, function: String = "retarget controls") throws -> RetargetControls {
        do { return try controls.validated(count: count) } catch MimeticError.invalidArgument(let m) {
            throw MimeticError.invalidArgument("\(function): \(m)")
        }
    }

    /// Checks every value; the message names the first bad one.
    func validated(count k: Int) throws -> RetargetControls {
        guard gain.count == k, offset.count == k, minimum.count == k, maximum.count == k else {
            throw MimeticError.invalidArgument("retarget controls need \(k) values per channel")
        }
        guard strength.isFinite, (0...4).contains(strength) else { throw MimeticError.invalidArgument("strength \(strength) is outside 0...4") }
        guard smoothingMs.isFinite, (0...1000).contains(smoothingMs) else {
            throw MimeticError.invalidArgument("smoothing \(smoothingMs) ms is outside 0...1000")
        }
        guard fps.isFinite, fps > 0, fps <= 1000 else { throw MimeticError.invalidArgument("fps \(fps) is outside (0, 1000]") }
        guard closureBoost.isFinite, (0...1).contains(closureBoost) else {
            throw MimeticError.invalidArgument("closure boost \(closureBoost) is outside 0...1")
        }
        guard closureChannels.allSatisfy({ (0..<k).contains($0) }) else { throw MimeticError.invalidArgument("closure channel out of range") }
        for c in 0..<k {
            guard gain[c].isFinite, abs(gain[c]) <= 16 else { throw MimeticError.invalidArgument("gain of channel \(c) is \(gain[c]); it must be finite, |gain| <= 16") }
            guard offset[c].isFinite, abs(offset[c]) <= 16 else { throw MimeticError.invalidArgument("offset of channel \(c) is \(offset[c]); it must be finite, |offset| <= 16") }
            guard !minimum[c].isNaN, !maximum[c].isNaN, minimum[c] <= maximum[c] else {
                throw MimeticError.invalidArgument("clamp of channel \(c) is [\(minimum[c]), \(maximum[c])]: it needs min <= max")
            }
        }
        return self
    }

    /// α of the one-pole filter per frame (1: no smoothing).
    var alpha: Double {
        smoothingMs <= 0 ? 1 : 1 - exp(-1000 / (Double(fps) * Double(smoothingMs)))
    }

    func apply(_ w: UnsafePointer<Double>, smoothed: UnsafeMutablePointer<Double>, primed: inout Bool,
               into out: UnsafeMutablePointer<Float>, count k: Int) {
        let a = primed ? alpha : 1
        primed = true
        for c in 0..<k { smoothed[c] += a * (w[c] - smoothed[c]) }
        var closed = 0.0
        if closureBoost > 0 {
            for c in closureChannels where channelUpper[c] > 0 { closed = max(closed, min(smoothed[c] / Double(channelUpper[c]), 1)) }
        }
        for c in 0..<k {
            var v = smoothed[c]
            if closed > 0, closureChannels.contains(c) { v += Double(closureBoost) * closed * closed * (Double(channelUpper[c]) - v) }
            let scaled = Float(Double(strength) * Double(gain[c]) * v) + offset[c]
            out[c] = min(max(scaled, minimum[c]), maximum[c])
        }
    }
}
