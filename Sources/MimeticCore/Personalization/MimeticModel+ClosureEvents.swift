/// Where the lips close in a reference clip: the bilabial events (m/b/p) that weight Imitator's
/// lip-contact and lip-closure terms (`ReferenceClip.bilabialFrames`), for references that do not
/// come with them (a Live Link take, a user's own capture).
extension MimeticModel {
    /// A bilabial phone's span in seconds of the clip's audio, as a forced aligner reports it.
    public struct PhoneInterval: Equatable, Sendable {
        public var start: Double
        public var end: Double
        public init(start: Double, end: Double) { self.start = start; self.end = end }
    }

    /// Frames of lip closures from the motion alone: on models with inner-lip pairs and a
    /// template, each run of frames whose mean pair distance is at most `gap` (0.5 mm, the "lips
    /// close" threshold of the evaluation) gives one event, at the run's smallest opening.
    /// Empty without lip pairs (the lip-contact weighting is then off for the clip).
    public func closureEvents(_ offsets: Matrix, gap: Float = 0.0005) -> [Int] {
        guard hasLipGap else { return [] }
        var events: [Int] = []
        var runStart = -1, best = -1
        var bestGap = Float.infinity
        for t in 0...offsets.rows {
            let g = t < offsets.rows ? lipGap(offsets, frame: t) : .infinity
            if g <= gap {
                if runStart < 0 { runStart = t; bestGap = .infinity }
                if g < bestGap { bestGap = g; best = t }
            } else if runStart >= 0 {
                events.append(best)
                runStart = -1
            }
        }
        return events
    }

    /// Frames of lip closures from the bilabial phones of a transcript's forced alignment
    /// (`mimetic-align`): phones that touch (less than a frame apart, as the m and p of "pump")
    /// are one closure; its event is the frame of smallest inner-lip opening within the span and a
    /// frame either side, whatever that opening is (a tracker may never see the lips fully shut),
    /// or the span's centre frame on models without lip pairs. Spans outside the clip are dropped.
    /// Throws for a span that is not finite or ends before it starts.
    public func closureEvents(_ offsets: Matrix, phones: [PhoneInterval]) throws -> [Int] {
        let fps = Double(config.fps)
        for (i, p) in phones.enumerated() where !(p.start.isFinite && p.end.isFinite && p.start <= p.end && p.start >= 0) {
            throw MimeticError.invalidArgument("bilabial phone \(i) spans [\(p.start), \(p.end)] s: it needs 0 <= start <= end, finite")
        }
        var merged: [PhoneInterval] = []
        for p in phones.sorted(by: { $0.start < $1.start }) {
            if let last = merged.last, p.start - last.end < 1 / fps { merged[merged.count - 1].end = max(last.end, p.end) }
            else { merged.append(p) }
        }
        var events: [Int] = []
        let clipEnd = Double(offsets.rows) / fps
        for p in merged where p.start < clipEnd {
            // Clamped in seconds before any conversion to a frame index: a span may end anywhere
            // (a hand-edited label file said 9.5e50 s, which no Int holds).
            let end = min(p.end, clipEnd)
            let first = max(Int((p.start * fps).rounded(.down)) - 1, 0)
            let last = min(Int((end * fps).rounded(.up)), offsets.rows - 1)
            guard first <= last else { continue }
            var event = min(max(Int(((p.start + end) / 2 * fps).rounded(.down)), first), last)
            if hasLipGap {
                var best = Float.infinity
                for t in first...last { let g = lipGap(offsets, frame: t); if g < best { best = g; event = t } }
            }
            if events.last != event { events.append(event) }
        }
        return events
    }

    private var hasLipGap: Bool { template != nil && !(lipPairs?.upper.isEmpty ?? true) }

    /// Mean distance of the inner-lip pairs at frame t of `offsets` (template + offsets), in metres.
    private func lipGap(_ offsets: Matrix, frame t: Int) -> Float {
        guard let pairs = lipPairs, let tpl = template else { return .infinity }
        var s: Float = 0
        let o = t * offsets.cols
        for (u, l) in zip(pairs.upper, pairs.lower) {
            let a = Int(u) * 3, b = Int(l) * 3
            let dx = (tpl[a] + offsets.data[o + a]) - (tpl[b] + offsets.data[o + b])
            let dy = (tpl[a + 1] + offsets.data[o + a + 1]) - (tpl[b + 1] + offsets.data[o + b + 1])
            let dz = (tpl[a + 2] + offsets.data[o + a + 2]) - (tpl[b + 2] + offsets.data[o + b + 2])
            s += (dx * dx + dy * dy + dz * dz).squareRoot()
        }
        return s / Float(pairs.upper.count)
    }
}
