import XCTest
@testable import MimeticCore

/// Live Link Face takes: parsing, resampling, and a clear refusal of every malformed take.
final class LiveLinkTakeTests: XCTestCase {
    func csv(rows: Int, fps: Int = 60, columns: [String] = ["JawOpen", "MouthClose"], value: (Int, Int) -> String = { r, c in "\(Float(r) * 0.01 + Float(c))" },
             start: Int = 0) -> String {
        var text = (["Timecode", "BlendShapeCount"] + columns).joined(separator: ",") + "\n"
        for r in 0..<rows {
            let f = start + r
            let tc = String(format2(f / fps / 3600)) + ":" + format2((f / fps / 60) % 60) + ":" + format2((f / fps) % 60) + ":" + format2(f % fps) + ".000"
            text += ([tc, "\(columns.count)"] + columns.indices.map { value(r, $0) }).joined(separator: ",") + "\n"
        }
        return text
    }
    func format2(_ x: Int) -> String { x < 10 ? "0\(x)" : "\(x)" }
    func edited(_ lines: [String], row: Int, _ change: (String) -> String) -> String {
        var l = lines
        l[row] = change(l[row])
        return l.joined(separator: "\n") + "\n"
    }

    func testParsesTimecodesRateAndValues() throws {
        let take = try LiveLinkTake(csv: csv(rows: 130), source: "t.csv")
        XCTAssertEqual(take.rows, 130)
        XCTAssertEqual(take.fps, 60, accuracy: 1e-9)
        XCTAssertEqual(take.times[61], 61.0 / 60, accuracy: 1e-12, "across a second boundary")
        XCTAssertEqual(take.columns, ["JawOpen", "MouthClose"])
        // Resampled at 30 fps: every other row; names matched ignoring the first letter's case.
        let w = try take.weights(names: ["mouthClose", "jawOpen"], fps: 30, frames: 10, offset: 0)
        XCTAssertEqual(w[2 * 3 + 1], 0.06, accuracy: 1e-6)       // frame 3 = row 6, jawOpen
        XCTAssertEqual(w[2 * 3 + 0], 1.06, accuracy: 1e-6)
        let shifted = try take.weights(names: ["jawOpen"], fps: 30, frames: 2, offset: 0.5 / 60)
        XCTAssertEqual(shifted[0], 0.005, accuracy: 1e-6, "halfway between rows 0 and 1")
        // A 30 fps take is recognised from its frame numbers.
        XCTAssertEqual(try LiveLinkTake(csv: csv(rows: 70, fps: 30), source: "t").fps, 30, accuracy: 1e-9)
    }

    /// Between two extreme finite values the resampled weight stays finite (v1 − v0 overflowed a Float).
    func testResamplingBetweenExtremeValuesStaysFinite() throws {
        let take = try LiveLinkTake(csv: csv(rows: 4, columns: ["JawOpen"]) { r, _ in r % 2 == 0 ? "3e38" : "-3e38" }, source: "t")
        let w = try take.weights(names: ["jawOpen"], fps: 90, frames: 6, offset: 0)
        XCTAssertTrue(w.allSatisfy(\.isFinite), "\(w)")
    }

    func testMalformedTakesAreRefusedWithTheirFault() {
        let good = csv(rows: 40)
        var lines = good.split(separator: "\n").map(String.init)
        let cases: [(String, String)] = [
            ("", "empty take"),
            ("Time,JawOpen\n00:00:00:00.000,1\n00:00:00:01.000,1\n", "starts with Timecode"),
            (good.replacingOccurrences(of: "00:00:00:05.000", with: "00:00:00:03.000"), "not increasing at row"),
            (edited(lines, row: 7) { $0 + ",nan" }, "has 5 columns"),
            (edited(lines, row: 7) { String($0[..<$0.lastIndex(of: ",")!]) + ",nan" }, "not a finite number"),
            (edited(lines, row: 9) { String($0[..<$0.lastIndex(of: ",")!]) }, "has 3 columns"),
            (good.replacingOccurrences(of: "00:00:00:11.000", with: "0:0:11.000"), "is not a timecode"),
            // An hour no clock shows, large enough that seconds since midnight would overflow an Int.
            (good.replacingOccurrences(of: "00:00:00:11.000", with: "9999999999999999:00:00:11.000"), "is not a timecode"),
            (csv(rows: 40).replacingOccurrences(of: "00:00:00:12.000", with: "00:00:00:75.000"), "no frame rate"),
            (lines[0] + "\n" + lines[1] + "\n", "at least 2"),
        ]
        for (text, fragment) in cases {
            XCTAssertThrowsError(try LiveLinkTake(csv: text, source: "take.csv"), fragment) {
                XCTAssertTrue("\($0)".contains(fragment), "\(fragment): \($0)")
                XCTAssertTrue("\($0)".contains("take.csv") || fragment == "", "\($0)")
            }
        }
        lines.removeAll()
        let take = try! LiveLinkTake(csv: good, source: "t")
        XCTAssertThrowsError(try take.weights(names: ["jawOpen", "mouthFunnel"], fps: 30, frames: 5, offset: 0)) {
            XCTAssertTrue("\($0)".contains("no column for mouthFunnel"))
        }
        XCTAssertNoThrow(try take.weights(names: ["jawOpen", "mouthFunnel"], fps: 30, frames: 5, offset: 0, missingAllowed: ["mouthFunnel"]))
    }

    func testClosureEventsOfTheDefaultModelsOwnMotion() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let model = try MimeticModel(path: root.appendingPathComponent("models/default.safetensors").path)
        let wav = try readWAV(path: root.appendingPathComponent("models/samples/bumblebees.wav").path)
        let offsets = try model.animate(audio: model.speech(wav.samples, sampleRate: wav.sampleRate, name: "s"), style: .slot(0)).offsets
        let events = model.closureEvents(offsets)
        // "A pair of bumblebees buzzed past the open window.": 7 m/b/p events in the corpus (models/samples/README.md).
        XCTAssertTrue((5...9).contains(events.count), "\(events)")
        XCTAssertEqual(events, events.sorted())
        XCTAssertTrue(model.closureEvents(Matrix(rows: 3, cols: model.outputSize, data: [Float](repeating: 0, count: 3 * model.outputSize))).isEmpty,
                      "the neutral face is open")
    }

    /// Closures at the m/b/p of a forced alignment: pocketsphinx's spans for "A pair of bumblebees
    /// buzzed past the open window." (mimetic-align on models/samples/bumblebees.wav, in seconds).
    func testClosureEventsAtAlignedPhones() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let model = try MimeticModel(path: root.appendingPathComponent("models/default.safetensors").path)
        let wav = try readWAV(path: root.appendingPathComponent("models/samples/bumblebees.wav").path)
        let offsets = try model.animate(audio: model.speech(wav.samples, sampleRate: wav.sampleRate, name: "s"), style: .slot(0)).offsets
        let labels = try PhoneLabels(text: """
            # start	end	phone
            0.00	0.22	SIL
            0.30 0.40 P
            0.73	0.79	b
            0.87	1.00	M
            1.00	1.06	B
            1.17	1.22	b
            1.44	1.49	P
            1.84	1.92	P
            2.51	2.58	EM
            9.00	9.10	P
            """, source: "bumblebees.phones.txt")
        XCTAssertEqual(labels.phones.count, 10)
        let spans = labels.bilabial
        XCTAssertEqual(spans.count, 9, "SIL is not a closure; case does not matter")
        let events = try model.closureEvents(offsets, phones: spans)
        // "bum|blebees" (M then B, touching) is one closure; the span past the clip's end is dropped.
        XCTAssertEqual(events.count, 7, "\(events)")
        let fps = Double(model.config.fps)
        let merged = MimeticModel.PhoneInterval(start: spans[2].start, end: spans[3].end)
        for (e, span) in zip(events, [spans[0], spans[1], merged, spans[4], spans[5], spans[6], spans[7]]) {
            XCTAssertTrue(Double(e) >= (span.start * fps).rounded(.down) - 1 && Double(e) <= (span.end * fps).rounded(.up), "event \(e) in \(span)")
        }
        // Where the motion also closes the lips, the two agree (the model closes at every m/b/p here).
        let motion = model.closureEvents(offsets)
        for e in events { XCTAssertTrue(motion.contains { abs($0 - e) <= 1 }, "aligned event \(e) has no motion closure near it: \(motion)") }
        XCTAssertThrowsError(try model.closureEvents(offsets, phones: [.init(start: 1, end: 0.5)])) { XCTAssertTrue("\($0)".contains("start <= end")) }
        XCTAssertThrowsError(try model.closureEvents(offsets, phones: [.init(start: .nan, end: 0.5)]))
        XCTAssertEqual(try model.closureEvents(offsets, phones: []), [])
        // Times no frame index can hold (a fuzzed label file had 9.5e50 s): clamped to the clip, not a trap.
        let huge = try model.closureEvents(offsets, phones: [.init(start: 2.5, end: 9.5e50), .init(start: 1e300, end: .greatestFiniteMagnitude)])
        XCTAssertEqual(huge.count, 1, "\(huge)")
        XCTAssertTrue(huge.allSatisfy { $0 >= 74 && $0 < offsets.rows }, "\(huge)")
    }

    func testPhoneLabelsRefuseMalformedLines() throws {
        XCTAssertThrowsError(try PhoneLabels(text: "0.1 0.2\n", source: "a")) { XCTAssertTrue("\($0)".contains("a: line 1 has 2 fields")) }
        XCTAssertThrowsError(try PhoneLabels(text: "0.1 0.2 M\nx 0.3 P\n", source: "a")) { XCTAssertTrue("\($0)".contains("line 2")) }
        XCTAssertThrowsError(try PhoneLabels(text: "0.1 nan M\n", source: "a")) { XCTAssertTrue("\($0)".contains("finite")) }
        XCTAssertThrowsError(try PhoneLabels(text: "0.3 0.2 M\n", source: "a")) { XCTAssertTrue("\($0)".contains("start <= end")) }
        XCTAssertThrowsError(try PhoneLabels(text: "# nothing\n\n", source: "a")) { XCTAssertTrue("\($0)".contains("no phone labels")) }
        XCTAssertThrowsError(try PhoneLabels(path: "/nonexistent/phones.txt")) { XCTAssertTrue("\($0)".contains("cannot read phone labels")) }
    }

    func testOffsetEstimateFindsAKnownShift() throws {
        // A smooth random curve, sampled at 30 fps as the "prediction" and at 60 fps 90 ms late as the take.
        func curve(_ t: Double) -> Float { Float(0.5 + 0.3 * sin(7 * t) * sin(2.3 * t + 1) + 0.1 * sin(19 * t)) }
        let lag = -0.09
        let frames = 120
        let predicted = (0..<frames).map { curve(Double($0) / 30) }
        let take = try LiveLinkTake(csv: csv(rows: 260, columns: ["JawOpen"]) { r, _ in "\(curve(Double(r) / 60 - lag))" }, source: "t")
        let estimate = try XCTUnwrap(take.estimateOffset(predicted: predicted, names: ["jawOpen"], fps: 30))
        XCTAssertEqual(estimate, lag, accuracy: 0.004)
    }
}
