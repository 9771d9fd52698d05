import Foundation
import XCTest

@testable import MimeticCore

final class ResamplerTests: XCTestCase {
    func testSineMatchesTheIdealSineAtTheNewRate() {
        // 44100 → 16001 has L = 16001 phases, so it uses the interpolated table.
        for (from, to) in [
            (44100, 16000), (48000, 16000), (22050, 16000), (8000, 16000), (16000, 48000), (44100, 16001),
        ] {
            let input = sine(hertz: 1000, rate: from, count: from / 4)
            let output = resample(input, from: from, to: to)
            let ideal = sine(hertz: 1000, rate: to, count: output.count)
            // The filter reaches 64 periods of the lower rate either side;
            // closer to the ends it sees the silence assumed outside the input.
            let edge = 64 * to / min(from, to) + 1
            let error = maxAbsoluteDifference(output[edge..<output.count - edge], ideal[edge..<output.count - edge])
            XCTAssertLessThan(error, 1e-3, "\(from) → \(to)")
            XCTAssertLessThan(error, 1e-5, "\(from) → \(to): measured ≤ 1.5e-6 when written")
        }
    }

    func testToneAboveTheOutputNyquistIsRemoved() {
        for (from, to, hertz) in [(44100, 16000, 11000.0), (48000, 16000, 8000.0), (44100, 16000, 8100.0)] {
            let input = sine(hertz: hertz, rate: from, count: from / 4)
            let output = resample(input, from: from, to: to)
            let middle = output[200..<output.count - 200]
            let gain = rms(middle) / rms(input[...])
            XCTAssertLessThan(20 * log10(gain), -70, "\(hertz) Hz, \(from) → \(to)")
        }
    }

    func testUnityGainAcrossThePassband() {
        for hertz in [50.0, 3000, 6000, 7200] {  // 7200 Hz = 0.9 × the 8 kHz Nyquist
            let output = resample(sine(hertz: hertz, rate: 44100, count: 11025), from: 44100, to: 16000)
            let ideal = sine(hertz: hertz, rate: 16000, count: output.count)
            let middle = 200..<output.count - 200
            XCTAssertEqual(rms(output[middle]) / rms(ideal[middle]), 1, accuracy: 1e-4, "\(hertz) Hz")  // 0.001 dB
        }
    }

    func testStreamingInRandomChunksMatchesOneChunk() {
        for (from, to) in [(44100, 16000), (16000, 48000), (44100, 16001), (192000, 8000)] {
            let input = sine(hertz: 440, rate: from, count: from / 10).enumerated().map { $1 + Float($0 % 7) * 0.01 }
            let whole = streamed(input, from: from, to: to, chunkSizes: [input.count])
            var random = SplitMix64(seed: UInt64(from + to))
            var sizes: [Int] = []
            while sizes.reduce(0, +) < input.count {
                sizes.append(random.uniform() < 0.3 ? random.integer(in: 0...2) : random.integer(in: 1...700))
            }
            let chunked = streamed(input, from: from, to: to, chunkSizes: sizes)
            XCTAssertEqual(chunked, whole, "\(from) → \(to)")
            XCTAssertEqual(whole, resample(input, from: from, to: to), "\(from) → \(to)")
        }
    }

    func testOneSampleChunksMatchOneChunk() {
        let input = sine(hertz: 1000, rate: 22050, count: 2205)
        let ones = streamed(input, from: 22050, to: 16000, chunkSizes: [Int](repeating: 1, count: input.count))
        XCTAssertEqual(ones, resample(input, from: 22050, to: 16000))
    }

    func testProcessNeverWritesMoreThanMaxOutputCount() {
        for (from, to) in [(44100, 16000), (8000, 48000), (16000, 44100)] {
            var resampler = StreamingResampler(inputRate: from, outputRate: to)
            var random = SplitMix64(seed: 3)
            var output = [Float](repeating: .nan, count: 2_000)
            var totalIn = 0
            var totalOut = 0
            // ~7500 samples: enough to wrap the history buffer (~4.4k) at least once.
            for _ in 0..<150 {
                let input = [Float](repeating: 0.5, count: random.integer(in: 0...100))
                let limit = resampler.maxOutputCount(forInput: input.count)
                XCTAssertEqual(limit, (input.count * to + from - 1) / from)
                let watched = limit + 16  // sentinels just past the limit
                output.withUnsafeMutableBufferPointer { $0.baseAddress!.update(repeating: .nan, count: watched) }
                let written = input.withUnsafeBufferPointer { inputBuffer in
                    output.withUnsafeMutableBufferPointer { resampler.process(inputBuffer, into: $0) }
                }
                XCTAssertLessThanOrEqual(written, limit)
                XCTAssertFalse(output[..<written].contains { $0.isNaN })
                XCTAssertTrue(output[written..<watched].allSatisfy { $0.isNaN }, "wrote past the count it returned")
                totalIn += input.count
                totalOut += written
            }
            let pending = resampler.pendingOutputCount
            let flushed = output.withUnsafeMutableBufferPointer { resampler.flush(into: $0) }
            XCTAssertEqual(flushed, pending)
            XCTAssertEqual(totalOut + flushed, (totalIn * to + from - 1) / from, "\(from) → \(to)")
        }
    }

    func testLatencyIsTheLookAheadInInputSamples() {
        var resampler = StreamingResampler(inputRate: 44100, outputRate: 16000)
        XCTAssertEqual(resampler.latency, 177)  // ceil(64 · 44100 / 16000)
        var output = [Float](repeating: 0, count: 1000)
        let input = [Float](repeating: 1, count: resampler.latency)
        // Output 0 (at input time 0) needs inputs 0...latency: one short, nothing comes out.
        let none = input.withUnsafeBufferPointer { i in
            output.withUnsafeMutableBufferPointer { resampler.process(i, into: $0) }
        }
        XCTAssertEqual(none, 0)
        let one = [Float(1)].withUnsafeBufferPointer { i in
            output.withUnsafeMutableBufferPointer { resampler.process(i, into: $0) }
        }
        XCTAssertEqual(one, 1)
        XCTAssertEqual(StreamingResampler(inputRate: 16000, outputRate: 48000).latency, 64)
        XCTAssertEqual(StreamingResampler(inputRate: 16000, outputRate: 16000).latency, 0)
    }

    func testResetForgetsEverything() {
        let input = sine(hertz: 300, rate: 48000, count: 4800)
        var resampler = StreamingResampler(inputRate: 48000, outputRate: 16000)
        _ = run(&resampler, input: Array(input.reversed()))
        resampler.reset()
        let afterReset = run(&resampler, input: input)
        var fresh = StreamingResampler(inputRate: 48000, outputRate: 16000)
        XCTAssertEqual(afterReset, run(&fresh, input: input))
    }

    func testOfflineResampleIsDelayCompensated() {
        // An impulse at input time t must peak at output index t·to exactly.
        for (from, to, impulseIndex, expectedPeak) in [
            (44100, 16000, 4410, 1600), (16000, 48000, 1000, 3000), (48000, 16000, 2400, 800), (8000, 16000, 123, 246),
        ] {
            var input = [Float](repeating: 0, count: from / 5)
            input[impulseIndex] = 1
            let output = resample(input, from: from, to: to)
            let peak = output.indices.max { output[$0] < output[$1] }!
            XCTAssertEqual(peak, expectedPeak, "\(from) → \(to)")
            // Symmetric kernel: neighbours either side of the peak match.
            XCTAssertEqual(output[peak - 1], output[peak + 1], accuracy: 1e-6, "\(from) → \(to)")
        }
    }

    func testOutputLengthIsCeilingOfTheScaledLength() {
        for n in [0, 1, 2, 440, 441, 442, 44100, 44101] {
            XCTAssertEqual(
                resample([Float](repeating: 0.1, count: n), from: 44100, to: 16000).count, (n * 160 + 440) / 441,
                "n = \(n)")
        }
        XCTAssertEqual(resample([Float](repeating: 0, count: 3), from: 8000, to: 48000).count, 18)
    }

    func testEqualRatesAreTheIdentity() {
        let input = sine(hertz: 1234, rate: 16000, count: 1000)
        XCTAssertEqual(resample(input, from: 16000, to: 16000), input)
        XCTAssertEqual(streamed(input, from: 16000, to: 16000, chunkSizes: [1, 10, 989]), input)
    }

    func testConstantSignalKeepsItsLevel() {
        let output = resample([Float](repeating: 0.5, count: 8000), from: 8000, to: 44100)
        XCTAssertEqual(
            maxAbsoluteDifference(
                output[400..<output.count - 400], [Float](repeating: 0.5, count: output.count - 800)[...]), 0,
            accuracy: 1e-5)
    }

    // MARK: Helpers

    private func sine(hertz: Double, rate: Int, count: Int) -> [Float] {
        (0..<count).map { Float(sin(2 * Double.pi * hertz * Double($0) / Double(rate))) }
    }

    private func rms(_ x: ArraySlice<Float>) -> Double {
        (x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(x.count)).squareRoot()
    }

    private func maxAbsoluteDifference(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Float {
        zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }

    /// Feeds `input` through a fresh resampler in chunks of the given sizes, then flushes.
    private func streamed(_ input: [Float], from: Int, to: Int, chunkSizes: [Int]) -> [Float] {
        var resampler = StreamingResampler(inputRate: from, outputRate: to)
        var output: [Float] = []
        var start = 0
        for size in chunkSizes where start < input.count {
            let chunk = Array(input[start..<min(input.count, start + size)])
            output += run(&resampler, input: chunk)
            start += chunk.count
        }
        var tail = [Float](repeating: 0, count: resampler.pendingOutputCount)
        let flushed = tail.withUnsafeMutableBufferPointer { resampler.flush(into: $0) }
        return output + tail[..<flushed]
    }

    private func run(_ resampler: inout StreamingResampler, input: [Float]) -> [Float] {
        var output = [Float](repeating: 0, count: resampler.maxOutputCount(forInput: input.count))
        let written = input.withUnsafeBufferPointer { i in
            output.withUnsafeMutableBufferPointer { resampler.process(i, into: $0) }
        }
        return Array(output[..<written])
    }
}
