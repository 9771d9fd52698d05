import Foundation

/// Builds WAV files byte by byte, so tests control every header field,
/// including the wrong ones.

struct RIFFChunk {
    var id: String
    var body: [UInt8]
    /// Overrides the size field (to declare more or fewer bytes than `body`).
    var declaredSize: UInt32?
}

/// "RIFF" <size> <form> followed by the chunks, each padded to an even length.
func riffFile(
    _ chunks: [RIFFChunk], magic: String = "RIFF", form: String = "WAVE", riffSize: UInt32? = nil
) -> Data {
    var body: [UInt8] = Array(form.utf8)
    for chunk in chunks {
        body += Array(chunk.id.utf8)
        body += littleEndianBytes(chunk.declaredSize ?? UInt32(chunk.body.count))
        body += chunk.body
        if chunk.body.count % 2 == 1 && chunk.declaredSize == nil { body.append(0) }
    }
    return Data(Array(magic.utf8) + littleEndianBytes(riffSize ?? UInt32(body.count)) + body)
}

/// A "fmt " chunk. With `extensibleSubformat`, the tag is 0xFFFE and the
/// subformat GUID carries the given tag.
func formatChunk(
    tag: UInt16, channels: UInt16, sampleRate: UInt32 = 16000, bitsPerSample: UInt16,
    blockAlign: UInt16? = nil, extensibleSubformat: UInt16? = nil, validBits: UInt16? = nil
) -> RIFFChunk {
    let align = blockAlign ?? channels * (bitsPerSample / 8)
    var body: [UInt8] = []
    body += littleEndianBytes(extensibleSubformat == nil ? tag : 0xFFFE)
    body += littleEndianBytes(channels)
    body += littleEndianBytes(sampleRate)
    body += littleEndianBytes(sampleRate * UInt32(align))
    body += littleEndianBytes(align)
    body += littleEndianBytes(bitsPerSample)
    if let subformat = extensibleSubformat {
        body += littleEndianBytes(UInt16(22))  // cbSize
        body += littleEndianBytes(validBits ?? bitsPerSample)
        body += littleEndianBytes(UInt32(0))  // channel mask
        body += littleEndianBytes(subformat)
        body += [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71]
    }
    return RIFFChunk(id: "fmt ", body: body)
}

func dataChunk(_ bytes: [UInt8], declaredSize: UInt32? = nil) -> RIFFChunk {
    RIFFChunk(id: "data", body: bytes, declaredSize: declaredSize)
}

func littleEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}

/// One sample encoding under test: how to make random samples, their bytes,
/// and the value a reader must decode them to.
struct TestSampleEncoding {
    var name: String
    var tag: UInt16  // 1 = PCM, 3 = float
    var bits: UInt16
    /// A random sample's bytes and exact value; `index` lets extremes appear.
    var makeSample: (inout SplitMix64, Int) -> (bytes: [UInt8], value: Double)

    static let all: [TestSampleEncoding] = [
        TestSampleEncoding(name: "PCM 8", tag: 1, bits: 8) { random, index in
            let extremes: [UInt8] = [0, 255, 128]
            let code: UInt8 = extremes[ifPresent: index] ?? UInt8(truncatingIfNeeded: random.next())
            return ([code], (Double(code) - 128) / 128)
        },
        TestSampleEncoding(name: "PCM 16", tag: 1, bits: 16) { random, index in
            let extremes: [Int16] = [.min, .max, 0]
            let code: Int16 = extremes[ifPresent: index] ?? Int16(truncatingIfNeeded: random.next())
            return (littleEndianBytes(code), Double(code) / 32768)
        },
        TestSampleEncoding(name: "PCM 24", tag: 1, bits: 24) { random, index in
            let extremes: [Int32] = [-8_388_608, 8_388_607, 0]
            let code: Int32 = extremes[ifPresent: index] ?? Int32(truncatingIfNeeded: random.next()) >> 8
            return (Array(littleEndianBytes(code).prefix(3)), Double(code) / 8_388_608)
        },
        TestSampleEncoding(name: "PCM 32", tag: 1, bits: 32) { random, index in
            let extremes: [Int32] = [.min, .max, 0]
            let code: Int32 = extremes[ifPresent: index] ?? Int32(truncatingIfNeeded: random.next())
            return (littleEndianBytes(code), Double(code) / 2_147_483_648)
        },
        TestSampleEncoding(name: "float 32", tag: 3, bits: 32) { random, index in
            let extremes: [Float] = [-1, 1, 0, 1e-30, 3.5]
            let value: Float = extremes[ifPresent: index] ?? Float(random.uniform() * 2 - 1)
            return (littleEndianBytes(value.bitPattern), Double(value))
        },
        TestSampleEncoding(name: "float 64", tag: 3, bits: 64) { random, index in
            let extremes: [Double] = [-1, 1, 0, 1e-300, 1.0 / 3]
            let value: Double = extremes[ifPresent: index] ?? random.uniform() * 2 - 1
            return (littleEndianBytes(value.bitPattern), value)
        },
    ]
}

/// Interleaved sample bytes for `frames` × `channels`, and the mono samples
/// a reader must produce (the mean of each frame's channels, in Double,
/// rounded once to Float).
func makeTestAudio(
    _ encoding: TestSampleEncoding, channels: Int, frames: Int, seed: UInt64
) -> (bytes: [UInt8], mono: [Float]) {
    var random = SplitMix64(seed: seed)
    var bytes: [UInt8] = []
    var mono: [Float] = []
    for frame in 0..<frames {
        var sum = 0.0
        for channel in 0..<channels {
            let sample = encoding.makeSample(&random, frame * channels + channel)
            bytes += sample.bytes
            sum += sample.value
        }
        mono.append(Float(sum / Double(channels)))
    }
    return (bytes, mono)
}

/// A small deterministic generator, so failures reproduce.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }

    mutating func integer(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }
}

extension Array {
    subscript(ifPresent index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
