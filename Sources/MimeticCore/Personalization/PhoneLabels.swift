/// A forced alignment of a clip's audio as a label file: one phone a line, `start end phone`
/// (seconds, separated by tabs or spaces; Audacity's label-track format, which `mimetic-align`
/// writes and which an Audacity user can also make or correct by hand). Blank lines and lines
/// starting with `#` are skipped.
///
/// ```swift
/// let labels = try PhoneLabels(path: "take.phones.txt")
/// let events = try model.closureEvents(offsets, phones: labels.bilabial)
/// ```
public struct PhoneLabels: Sendable {
    public struct Phone: Equatable, Sendable {
        public var start: Double
        public var end: Double
        public var name: String
    }

    public var phones: [Phone]

    /// Phones whose lips close: m, b, p (ARPAbet M, B, P as pocketsphinx and the CMU dictionary
    /// name them, any case; also ARPAbet's syllabic EM).
    public static let bilabialNames: Set<String> = ["m", "b", "p", "em"]

    /// The bilabial phones' spans, for `MimeticModel.closureEvents(_:phones:)`.
    public var bilabial: [MimeticModel.PhoneInterval] {
        phones.filter { Self.bilabialNames.contains($0.name.lowercased()) }.map { .init(start: $0.start, end: $0.end) }
    }

    public init(path: String) throws {
        let text = try readTextFile(atPath: path, what: "phone labels", expected: "phone labels are 'start end phone' lines")
        try self.init(text: text, source: path)
    }

    public init(text: String, source: String) throws {
        phones = []
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
        for (i, line) in lines.enumerated() {
            let cells = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if cells.isEmpty || cells[0].hasPrefix("#") { continue }
            guard cells.count == 3 else {
                throw MimeticError.invalidArgument("\(source): line \(i + 1) has \(cells.count) fields; a phone label is 'start end phone'")
            }
            guard let start = Double(cells[0]), let end = Double(cells[1]), start.isFinite, end.isFinite else {
                throw MimeticError.invalidArgument("\(source): line \(i + 1): '\(cells[0])' and '\(cells[1])' must be finite times in seconds")
            }
            guard start >= 0, end >= start else {
                throw MimeticError.invalidArgument("\(source): line \(i + 1): the phone spans [\(start), \(end)] s; it needs 0 <= start <= end")
            }
            phones.append(Phone(start: start, end: end, name: String(cells[2])))
        }
        guard !phones.isEmpty else { throw MimeticError.invalidArgument("\(source): no phone labels (expected 'start end phone' lines)") }
    }
}
