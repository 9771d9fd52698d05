/// A Live Link Face take (ARKit face tracking on a phone, 60 fps): the CSV it records, turned into
/// reference offsets in a model's topology through a blendshape basis, for personalisation.
///
///     Timecode, BlendShapeCount, EyeBlinkLeft, ..., TongueOut, HeadYaw, ..., RightEyeRoll
///     00:00:01:07.000, 61, 0.01, ...
///
/// Timecodes are HH:MM:SS:FF[.sub] (FF frames at the take's rate, which is inferred from the
/// largest FF: 24, 25, 30, 48, 50 or 60); the blendshape columns are matched to the basis' names
/// ignoring the first letter's case (`JawOpen` = `jawOpen`). Every malformed take is refused with
/// the row and column at fault.
public struct LiveLinkTake: Sendable {
    /// Column names as in the file (head and eye columns included).
    public let columns: [String]
    /// Seconds of each row from the first row.
    public let times: [Double]
    /// rows × columns.count values.
    public let values: [Float]
    /// The take's frame rate (from its timecodes).
    public let fps: Double
    public var rows: Int { times.count }
    public var duration: Double { (times.last ?? 0) + 1 / fps }

    static let timecodeRates = [24, 25, 30, 48, 50, 60]

    public init(path: String) throws {
        let text = try readTextFile(atPath: path, what: "take", expected: "a Live Link Face CSV is")
        try self.init(csv: text, source: path)
    }

    public init(csv text: String, source: String) throws {
        let lines = text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }).filter { !$0.allSatisfy { $0 == " " || $0 == "\t" } }
        guard let headerLine = lines.first else { throw MimeticError.invalidArgument("\(source): empty take") }
        let header = headerLine.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmed }
        guard header.first == "Timecode" else {
            throw MimeticError.invalidArgument("\(source): the first column is '\(header.first ?? "")'; a Live Link Face CSV starts with Timecode")
        }
        let skip = header.count > 1 && header[1] == "BlendShapeCount" ? 2 : 1
        columns = Array(header[skip...])
        guard !columns.isEmpty else { throw MimeticError.invalidArgument("\(source): no blendshape columns") }
        guard lines.count >= 3 else { throw MimeticError.invalidArgument("\(source): \(lines.count - 1) rows; a take needs at least 2") }
        var stamps: [(h: Int, m: Int, s: Int, f: Int, sub: Double)] = []
        var values: [Float] = []
        values.reserveCapacity((lines.count - 1) * columns.count)
        for (r, line) in lines.dropFirst().enumerated() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmed }
            guard cells.count == header.count else {
                throw MimeticError.invalidArgument("\(source): row \(r + 1) has \(cells.count) columns; the header has \(header.count)")
            }
            guard let stamp = Self.parseTimecode(cells[0]) else {
                throw MimeticError.invalidArgument("\(source): row \(r + 1): '\(cells[0])' is not a timecode (HH:MM:SS:FF.sub)")
            }
            stamps.append(stamp)
            for (c, cell) in cells[skip...].enumerated() {
                guard let v = Float(cell), v.isFinite else {
                    throw MimeticError.invalidArgument("\(source): row \(r + 1), column '\(columns[c])': '\(cell)' is not a finite number")
                }
                values.append(v)
            }
        }
        let maxFrame = stamps.map(\.f).max() ?? 0
        guard let rate = Self.timecodeRates.first(where: { $0 > maxFrame }) else {
            throw MimeticError.invalidArgument("\(source): timecode frame numbers reach \(maxFrame); no frame rate up to 60 fps has that many")
        }
        let absolute = stamps.map { Double($0.h * 3600 + $0.m * 60 + $0.s) + (Double($0.f) + $0.sub) / Double(rate) }
        for i in 1..<absolute.count where absolute[i] <= absolute[i - 1] {
            throw MimeticError.invalidArgument("\(source): timecodes are not increasing at row \(i + 1) (\(absolute[i - 1]) s, then \(absolute[i]) s)")
        }
        let steps = zip(absolute.dropFirst(), absolute).map { $0 - $1 }.sorted()
        let step = steps[steps.count / 2]
        guard step > 0, step <= 0.2 else {
            throw MimeticError.invalidArgument("\(source): the median time between rows is \(step) s; a face take has 5...240 rows a second")
        }
        times = absolute.map { $0 - absolute[0] }
        fps = 1 / step
        self.values = values
    }

    static func parseTimecode(_ s: String) -> (h: Int, m: Int, s: Int, f: Int, sub: Double)? {
        let parts = s.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 4, let h = Int(parts[0]), let m = Int(parts[1]), let sec = Int(parts[2]), (0..<100).contains(h), m >= 0, m < 60, sec >= 0, sec < 60 else { return nil }
        let frame = parts[3].split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(frame.count), let f = Int(frame[0]), f >= 0 else { return nil }
        var sub = 0.0
        if frame.count == 2 {
            guard let digits = Double("0." + frame[1]) else { return nil }
            sub = digits
        }
        return (h, m, sec, f, sub)
    }

    /// The take's weights for `names` (a basis' order; a name the take lacks is an error, unless
    /// `missingAllowed` says it may stay 0), linearly resampled at `frames` instants t_k = k / fps +
    /// offset (seconds into the take; before its start or after its end the nearest row holds).
    public func weights(names: [String], fps: Int, frames: Int, offset: Double, missingAllowed: Set<String> = []) throws -> [Float] {
        var index: [Int?] = []
        var missing: [String] = []
        for name in names {
            let i = columns.firstIndex { $0.lowercased() == name.lowercased() }
            if i == nil && !missingAllowed.contains(name) { missing.append(name) }
            index.append(i)
        }
        guard missing.isEmpty else {
            throw MimeticError.invalidArgument("the take has no column for \(missing.prefix(5).joined(separator: ", "))\(missing.count > 5 ? " (and \(missing.count - 5) more)" : ""): the basis needs every shape it moves")
        }
        let width = columns.count
        var out = [Float](repeating: 0, count: frames * names.count)
        var row = 0
        for k in 0..<frames {
            let t = Double(k) / Double(fps) + offset
            while row + 1 < rows && times[row + 1] <= t { row += 1 }
            let next = min(row + 1, rows - 1)
            let span = times[next] - times[row]
            let a = span > 0 ? min(max((t - times[row]) / span, 0), 1) : 0
            for (j, i) in index.enumerated() {
                guard let i else { continue }
                let v0 = values[row * width + i], v1 = values[next * width + i]
                out[k * names.count + j] = Float(Double(v0) + a * (Double(v1) - Double(v0)))   // in double: v1 - v0 may overflow a Float
            }
        }
        return out
    }

    /// The lag (seconds, added to the audio's times to find the take's) at which the take's weights
    /// best match `predicted` (frames × names.count weights at `fps`, e.g. the model's own animation
    /// of the take's audio fitted to the same basis): the largest summed correlation over the
    /// channels that move, searched every 5 ms within ±maxLag, then refined to 1 ms.
    public func estimateOffset(predicted: [Float], names: [String], fps: Int, maxLag: Double = 0.5) -> Double? {
        let k = names.count
        let frames = predicted.count / max(k, 1)
        guard frames > 10 else { return nil }
        let present = names.indices.filter { i in columns.contains { $0.lowercased() == names[i].lowercased() } }
        // Channels the prediction moves, standardised.
        var channels: [(index: Int, values: [Double])] = []
        for i in present {
            let v = (0..<frames).map { Double(predicted[$0 * k + i]) }
            let mean = v.reduce(0, +) / Double(frames)
            let sd = (v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(frames)).squareRoot()
            if sd > 1e-4 { channels.append((i, v.map { ($0 - mean) / sd })) }
        }
        guard !channels.isEmpty else { return nil }
        func score(_ lag: Double) -> Double {
            guard let w = try? weights(names: names, fps: fps, frames: frames, offset: lag, missingAllowed: Set(names)) else { return -.infinity }
            var total = 0.0
            for (i, z) in channels {
                let v = (0..<frames).map { Double(w[$0 * k + i]) }
                let mean = v.reduce(0, +) / Double(frames)
                let sd = (v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(frames)).squareRoot()
                guard sd > 1e-6 else { continue }
                var c = 0.0
                for t in 0..<frames { c += z[t] * (v[t] - mean) / sd }
                total += c / Double(frames)
            }
            return total
        }
        var best = 0.0, bestScore = -Double.infinity
        for step in stride(from: -maxLag, through: maxLag, by: 0.005) {
            let s = score(step)
            if s > bestScore { bestScore = s; best = step }
        }
        for step in stride(from: best - 0.005, through: best + 0.005, by: 0.001) {
            let s = score(step)
            if s > bestScore { bestScore = s; best = step }
        }
        return best
    }
}

extension MimeticModel {
    /// A reference clip from a Live Link Face take and its audio: the take's weights resampled at
    /// the model's frames (shifted by `offset`, or when nil by the shift that best matches the
    /// model's own animation of the audio; 0 if that animation does not move) and mapped through `basis` (an ARKit basis in this model's topology) to offsets. Returns
    /// the clip and the offset used. The clip's bilabial events come from `phones` (the m/b/p spans of
    /// a forced alignment of the audio, `PhoneLabels.bilabial`) when given, else from the motion alone.
    public func referenceClip(take: LiveLinkTake, audio: [Float], sampleRate: Int, basis: Retarget,
                              offset: Double? = nil, phones: [PhoneInterval]? = nil) throws -> (ReferenceClip, Double) {
        guard basis.outputSize == outputSize else {
            throw MimeticError.invalidArgument("the basis is for \(basis.outputSize / 3) vertices; this model has \(outputSize / 3)")
        }
        let speech = try self.speech(audio, sampleRate: sampleRate, name: "take audio")
        let frames = frameCount(samples: speech.count)
        guard frames > 0 else { throw MimeticError.invalidAudio("the take's audio is too short for one frame") }
        var shift = offset ?? 0
        if offset == nil {
            // The model's own animation of the take's audio, fitted to the basis, is the face the
            // take should match: align the take to it. (Aligning the jaw with the audio's loudness
            // was tried first: 87 ms off on average, 537 ms at worst; docs/personalization.md.)
            var state = basis.makeState()
            let predicted = basis.solve(frames: try animate(audio: speech, style: .slot(0)).offsets, state: &state).weights
            shift = take.estimateOffset(predicted: predicted, names: basis.names, fps: config.fps) ?? 0
        }
        guard abs(shift) < take.duration else {
            throw MimeticError.invalidArgument("an offset of \(shift) s leaves no overlap with the \(take.duration) s take")
        }
        let overlap = min(Double(frames) / Double(config.fps), take.duration - max(shift, 0))
        guard overlap >= 0.5 * Double(frames) / Double(config.fps) else {
            throw MimeticError.invalidArgument(formatted("the take covers %.2f s of its %.2f s of audio (offset %.3f s): is it the take of this recording?",
                                                         overlap, Double(frames) / Double(config.fps), shift))
        }
        let empty = Set(basis.names.indices.filter { !basis.fitted.contains(Int64($0)) }.map { basis.names[$0] })
        let w = try take.weights(names: basis.names, fps: config.fps, frames: frames, offset: shift, missingAllowed: empty)
        var offsets = Matrix(rows: frames, cols: outputSize, data: [Float](repeating: 0, count: frames * outputSize))
        offsets.data.withUnsafeMutableBufferPointer { o in
            w.withUnsafeBufferPointer { wp in
                for t in 0..<frames { basis.offsets(weights: wp.baseAddress! + t * basis.count, into: o.baseAddress! + t * outputSize) }
            }
        }
        let events = try phones.map { try closureEvents(offsets, phones: $0) } ?? closureEvents(offsets)
        return (ReferenceClip(audio: speech, offsets: offsets, bilabialFrames: events), shift)
    }
}

private extension Substring {
    var trimmed: String {
        var s = self[...]
        while let c = s.first, c == " " || c == "\t" || c == "\"" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\"" || c == "\r" { s = s.dropLast() }
        return String(s)
    }
}
