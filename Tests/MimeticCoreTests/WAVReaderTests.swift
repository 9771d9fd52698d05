import Foundation
import XCTest

@testable import MimeticCore

final class WAVReaderTests: TemporaryDirectoryTestCase {
    // MARK: Decoding

    func testEveryEncodingAndChannelCountDecodesExactly() throws {
        for encoding in TestSampleEncoding.all {
            for extensible in [false, true] {
                for channels in [1, 2, 3, 6] {
                    let audio = makeTestAudio(encoding, channels: channels, frames: 41, seed: UInt64(channels))
                    let file = riffFile([
                        formatChunk(
                            tag: encoding.tag, channels: UInt16(channels), sampleRate: 22050,
                            bitsPerSample: encoding.bits, extensibleSubformat: extensible ? encoding.tag : nil),
                        dataChunk(audio.bytes),
                    ])
                    let context = "\(encoding.name), extensible: \(extensible), \(channels) channels"
                    let decoded = try readWAV(data: file, name: "test.wav")
                    XCTAssertEqual(decoded.samples, audio.mono, context)
                    XCTAssertEqual(decoded.sampleRate, 22050, context)
                    XCTAssertEqual(decoded.channels, channels, context)
                }
            }
        }
    }

    func testSourceFormatNamesTheEncoding() throws {
        let pcm8 = try readWAV(
            data: riffFile([formatChunk(tag: 1, channels: 1, bitsPerSample: 8), dataChunk([128])]), name: "a")
        XCTAssertEqual(pcm8.sourceFormat, "8-bit unsigned PCM")
        let float64 = try readWAV(
            data: riffFile([
                formatChunk(tag: 3, channels: 1, bitsPerSample: 64), dataChunk([UInt8](repeating: 0, count: 8)),
            ]),
            name: "a")
        XCTAssertEqual(float64.sourceFormat, "64-bit float")
        let extensible24 = try readWAV(
            data: riffFile([
                formatChunk(tag: 1, channels: 1, bitsPerSample: 24, extensibleSubformat: 1, validBits: 20),
                dataChunk([0, 0, 0]),
            ]),
            name: "a")
        XCTAssertEqual(extensible24.sourceFormat, "24-bit PCM (WAVE_FORMAT_EXTENSIBLE, 20 valid bits)")
    }

    func testChunksInAnyOrderAndUnknownChunksWithPadBytesAreSkipped() throws {
        let audio = makeTestAudio(TestSampleEncoding.all[1], channels: 2, frames: 5, seed: 7)
        let list = RIFFChunk(id: "LIST", body: Array("INFOISFT\u{5}\0\0\0Lavf\0".utf8))  // odd size
        let fact = RIFFChunk(id: "fact", body: littleEndianBytes(UInt32(5)))
        let odd = RIFFChunk(id: "junk", body: [1, 2, 3])
        let orders: [[RIFFChunk]] = [
            [list, formatChunk(tag: 1, channels: 2, bitsPerSample: 16), odd, fact, dataChunk(audio.bytes)],
            [odd, dataChunk(audio.bytes), list, formatChunk(tag: 1, channels: 2, bitsPerSample: 16)],
            [formatChunk(tag: 1, channels: 2, bitsPerSample: 16), dataChunk(audio.bytes), odd, list],
        ]
        for chunks in orders {
            XCTAssertEqual(try readWAV(data: riffFile(chunks), name: "a").samples, audio.mono)
        }
    }

    func testOddSizedDataChunkFollowedByPadByte() throws {
        let file = riffFile([
            formatChunk(tag: 1, channels: 1, bitsPerSample: 8),
            dataChunk([0, 128, 255]),
            RIFFChunk(id: "LIST", body: [1, 2]),
        ])
        XCTAssertEqual(try readWAV(data: file, name: "a").samples, [-1, 0, 127.0 / 128])
    }

    func testWrongRIFFSizeIsTolerated() throws {
        let chunks = [formatChunk(tag: 1, channels: 1, bitsPerSample: 16), dataChunk([0, 0x40, 0, 0xC0])]
        for riffSize: UInt32 in [0, 0xFFFF_FFFF, 12, 1_000_000] {
            XCTAssertEqual(try readWAV(data: riffFile(chunks, riffSize: riffSize), name: "a").samples, [0.5, -0.5])
        }
    }

    func testBrokenChunkAfterTheAudioIsIgnored() throws {
        var file = riffFile([formatChunk(tag: 1, channels: 1, bitsPerSample: 16), dataChunk([0, 0x40])])
        file += Array("LIST".utf8) + littleEndianBytes(UInt32(500)) + [1, 2, 3]
        XCTAssertEqual(try readWAV(data: file, name: "a").samples, [0.5])
    }

    func testReadsFromPath() throws {
        let path = temporaryPath("tone.wav")
        let samples: [Float] = [0, 0.25, -0.5, 1 - 1.0 / 32768, -1]
        try writeWAV(path: path, samples: samples, sampleRate: 16000, format: .pcm16)
        let audio = try readWAV(path: path)
        XCTAssertEqual(audio.samples, samples)
        XCTAssertEqual(audio.sampleRate, 16000)
        XCTAssertEqual(audio.channels, 1)
        XCTAssertEqual(audio.sourceFormat, "16-bit PCM")
    }

    // MARK: Writing

    func testFloat32RoundTripIsExact() throws {
        let samples: [Float] = [0, 1e-7, -0.3333333, 1, -1, 2.5]
        let path = temporaryPath("float.wav")
        try writeWAV(path: path, samples: samples, sampleRate: 48000, format: .float32)
        let audio = try readWAV(path: path)
        XCTAssertEqual(audio.samples, samples)
        XCTAssertEqual(audio.sampleRate, 48000)
        XCTAssertEqual(audio.sourceFormat, "32-bit float")
    }

    func testPCM16WriteRoundsAndClips() throws {
        let data = try encodeWAV(samples: [0.5 + 0.4 / 32768, 1, 1.5, -1.5], sampleRate: 8000, format: .pcm16)
        XCTAssertEqual(data.count, 44 + 8)
        XCTAssertEqual(try readWAV(data: data, name: "a").samples, [0.5, 32767.0 / 32768, 32767.0 / 32768, -1])
    }

    func testWriteRejectsNonFiniteSamplesAndBadRates() {
        assertWAVError(
            try encodeWAV(samples: [0, .nan], sampleRate: 16000, format: .float32, name: "out.wav"),
            .nonFiniteSample(path: "out.wav", frame: 1, channel: 0, value: "NaN"), mentions: ["frame 1"])
        assertWAVError(
            try encodeWAV(samples: [0], sampleRate: 0, format: .pcm16, name: "out.wav"),
            .invalidSampleRate(path: "out.wav", sampleRate: 0), mentions: ["0 Hz"])
        let directory = temporaryPath("no-such-directory") + "/x.wav"
        XCTAssertThrowsError(try writeWAV(path: directory, samples: [0], sampleRate: 16000)) { error in
            XCTAssertTrue("\(error)".contains("No such file or directory"), "\(error)")
        }
    }

    // MARK: Bad files

    func testUnreadablePath() {
        let path = temporaryPath("missing.wav")
        assertWAVError(
            try readWAV(path: path), .cannotRead(path: path, reason: "No such file or directory"),
            mentions: [path, "No such file or directory"])
    }

    func testNotAWAVFile() {
        assertWAVError(
            try readWAV(data: Data([1, 2, 3, 4, 5]), name: "x.wav"), .tooShort(path: "x.wav", byteCount: 5),
            mentions: ["x.wav", "5 bytes"])
        assertWAVError(
            try readWAV(data: Data(Array("ID3\u{3}\0\0\0\0\0\0\0\0".utf8)), name: "song.mp3"),
            .notRIFF(path: "song.mp3", found: "ID3\\x03"), mentions: ["song.mp3", "RIFF", "ID3"])
        assertWAVError(
            try readWAV(data: riffFile([], magic: "RF64"), name: "big.wav"),
            .notRIFF(path: "big.wav", found: "RF64"), mentions: ["RF64", "not supported"])
        assertWAVError(
            try readWAV(data: riffFile([], form: "AVI "), name: "clip.avi"),
            .notWAVE(path: "clip.avi", found: "AVI "), mentions: ["AVI ", "WAVE"])
    }

    func testMissingChunks() {
        assertWAVError(
            try readWAV(data: riffFile([dataChunk([0, 0])]), name: "a.wav"),
            .missingFormatChunk(path: "a.wav"), mentions: ["fmt "])
        assertWAVError(
            try readWAV(data: riffFile([formatChunk(tag: 1, channels: 1, bitsPerSample: 16)]), name: "a.wav"),
            .missingDataChunk(path: "a.wav"), mentions: ["data"])
        assertWAVError(
            try readWAV(data: riffFile([RIFFChunk(id: "fmt ", body: [1, 0, 1, 0])]), name: "a.wav"),
            .malformedFormatChunk(path: "a.wav", reason: "it is 4 bytes, but needs at least 16"),
            mentions: ["4 bytes"])
        let cutInFormat = riffFile([RIFFChunk(id: "fmt ", body: [1, 0, 1, 0], declaredSize: 16)])
        assertWAVError(
            try readWAV(data: cutInFormat, name: "a.wav"),
            .malformedFormatChunk(path: "a.wav", reason: "it declares 16 bytes but only 4 remain in the file"),
            mentions: ["16 bytes", "only 4"])
    }

    func testCompressedEncodingsAreNamed() {
        let cases: [(UInt16, String)] = [
            (2, "ADPCM (2)"), (6, "A-law (6)"), (7, "µ-law (7)"), (0x55, "MPEG Layer 3 (85)"),
        ]
        for (tag, expected) in cases {
            let file = riffFile([formatChunk(tag: tag, channels: 1, bitsPerSample: 8), dataChunk([0, 0])])
            XCTAssertThrowsError(try readWAV(data: file, name: "c.wav")) { error in
                guard case WAVError.unsupportedFormat(path: "c.wav", formatTag: Int(tag), name: _) = error else {
                    return XCTFail("\(error)")
                }
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
            }
        }
        let extensibleALaw = riffFile([
            formatChunk(tag: 0, channels: 1, bitsPerSample: 8, extensibleSubformat: 6), dataChunk([0, 0]),
        ])
        assertWAVError(
            try readWAV(data: extensibleALaw, name: "c.wav"),
            .unsupportedFormat(path: "c.wav", formatTag: 6, name: "A-law inside WAVE_FORMAT_EXTENSIBLE"),
            mentions: ["A-law"])
    }

    func testUnsupportedBitsPerSample() {
        let pcm12 = riffFile([formatChunk(tag: 1, channels: 1, bitsPerSample: 12, blockAlign: 2), dataChunk([0, 0])])
        assertWAVError(
            try readWAV(data: pcm12, name: "a.wav"),
            .unsupportedBitsPerSample(path: "a.wav", bits: 12, encoding: "PCM"), mentions: ["12 bits"])
        let float16 = riffFile([formatChunk(tag: 3, channels: 1, bitsPerSample: 16), dataChunk([0, 0])])
        assertWAVError(
            try readWAV(data: float16, name: "a.wav"),
            .unsupportedBitsPerSample(path: "a.wav", bits: 16, encoding: "float"), mentions: ["16 bits", "float"])
    }

    func testInvalidFormatFields() {
        let noChannels = riffFile([
            formatChunk(tag: 1, channels: 0, bitsPerSample: 16, blockAlign: 2), dataChunk([0, 0]),
        ])
        assertWAVError(
            try readWAV(data: noChannels, name: "a.wav"), .zeroChannels(path: "a.wav"), mentions: ["0 channels"])
        let noRate = riffFile([formatChunk(tag: 1, channels: 1, sampleRate: 0, bitsPerSample: 16), dataChunk([0, 0])])
        assertWAVError(try readWAV(data: noRate, name: "a.wav"), .zeroSampleRate(path: "a.wav"), mentions: ["0 Hz"])
        let badAlign = riffFile([
            formatChunk(tag: 1, channels: 2, bitsPerSample: 16, blockAlign: 2), dataChunk([0, 0]),
        ])
        assertWAVError(
            try readWAV(data: badAlign, name: "a.wav"),
            .inconsistentBlockAlign(path: "a.wav", blockAlign: 2, channels: 2, bytesPerSample: 2),
            mentions: ["block align is 2", "need 4"])
    }

    func testTruncatedDataIsAnErrorNotSilentlyShortened() {
        let file = riffFile([
            formatChunk(tag: 1, channels: 1, bitsPerSample: 16),
            dataChunk([UInt8](repeating: 0, count: 600), declaredSize: 1000),
        ])
        assertWAVError(
            try readWAV(data: file, name: "cut.wav"),
            .truncatedData(path: "cut.wav", expectedBytes: 1000, presentBytes: 600),
            mentions: ["cut.wav", "1000 bytes", "only 600"])
    }

    func testPartialFrameAndEmptyAudio() {
        let partial = riffFile([formatChunk(tag: 1, channels: 2, bitsPerSample: 16), dataChunk([0, 0, 0, 0, 0, 0])])
        assertWAVError(
            try readWAV(data: partial, name: "a.wav"),
            .partialFrame(path: "a.wav", dataBytes: 6, blockAlign: 4), mentions: ["6 bytes", "4-byte frames"])
        let empty = riffFile([formatChunk(tag: 1, channels: 1, bitsPerSample: 16), dataChunk([])])
        assertWAVError(try readWAV(data: empty, name: "a.wav"), .emptyAudio(path: "a.wav"), mentions: ["0 frames"])
    }

    func testNonFiniteFloatSamplesAreReportedWithTheirFrame() {
        let float32 = [0, 0.5, 0.25, 0, Float.nan, 1].flatMap { littleEndianBytes($0.bitPattern) }
        let stereo = riffFile([formatChunk(tag: 3, channels: 2, bitsPerSample: 32), dataChunk(float32)])
        assertWAVError(
            try readWAV(data: stereo, name: "n.wav"),
            .nonFiniteSample(path: "n.wav", frame: 2, channel: 0, value: "NaN"), mentions: ["NaN", "frame 2"])
        let float64 = [0, 0, -Double.infinity].flatMap { littleEndianBytes($0.bitPattern) }
        let mono = riffFile([
            formatChunk(tag: 3, channels: 1, bitsPerSample: 64, extensibleSubformat: 3), dataChunk(float64),
        ])
        assertWAVError(
            try readWAV(data: mono, name: "n.wav"),
            .nonFiniteSample(path: "n.wav", frame: 2, channel: 0, value: "-infinity"),
            mentions: ["infinity", "frame 2"])
    }

    // MARK: Helpers

    private func assertWAVError<T>(
        _ expression: @autoclosure () throws -> T, _ expected: WAVError, mentions facts: [String],
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try expression(), file: file, line: line) { error in
            XCTAssertEqual(error as? WAVError, expected, file: file, line: line)
            for fact in facts {
                XCTAssertTrue(
                    "\(error)".contains(fact), "\"\(error)\" should mention \"\(fact)\"", file: file, line: line)
            }
        }
    }
}
