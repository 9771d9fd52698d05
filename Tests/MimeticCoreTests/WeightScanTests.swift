import CKernels
import XCTest

/// The load-time passes over every weight (`weight_scan.c`): the first NaN/Inf found wherever it
/// sits (a vector block's start or end, the tail), and float16 widened exactly as Swift widens it.
final class WeightScanTests: XCTestCase {
    func testFirstNonFiniteFloat32Anywhere() {
        let n = 1000
        for bad in [0, 1, 15, 16, 63, 64, 65, 127, 960, 999] {
            for value in [Float.nan, .infinity, -.infinity] {
                var x = (0..<n).map { Float($0) * 0.25 - 100 }
                x[bad] = value
                if bad + 7 < n { x[bad + 7] = .nan }   // a later one does not hide the first
                XCTAssertEqual(x.withUnsafeBytes { weight_scan_f32($0.baseAddress!, n) }, bad, "value \(value) at \(bad)")
            }
        }
        let finite = (0..<n).map { Float($0) * 1e30 }.map { $0.isFinite ? $0 : .greatestFiniteMagnitude }
        XCTAssertEqual(finite.withUnsafeBytes { weight_scan_f32($0.baseAddress!, n) }, n)
        // Unaligned: one byte in.
        var bytes = [UInt8](repeating: 0, count: 4 * 100 + 1)
        withUnsafeBytes(of: Float.nan.bitPattern.littleEndian) { for i in 0..<4 { bytes[1 + 4 * 37 + i] = $0[i] } }
        XCTAssertEqual(bytes.withUnsafeBytes { weight_scan_f32($0.baseAddress! + 1, 100) }, 37)
    }

    func testFloat16WidenedExactlyAndNonFiniteFound() {
        // Every float16 bit pattern: finite ones widen exactly, the first Inf/NaN is reported.
        let all = (0..<65536).map { UInt16($0) }
        var out = [Float](repeating: 0, count: all.count)
        let bad = all.withUnsafeBytes { src in out.withUnsafeMutableBufferPointer { weight_widen_f16(src.baseAddress!, all.count, $0.baseAddress!) } }
        XCTAssertEqual(bad, 0x7c00)   // +Inf, the first non-finite pattern
        for (i, bits) in all.enumerated() {
            let h = Float16(bitPattern: bits)
            if h.isNaN { XCTAssertTrue(out[i].isNaN); continue }
            XCTAssertEqual(out[i].bitPattern, Float(h).bitPattern, "pattern \(String(bits, radix: 16))")
        }
        for n in [1, 15, 16, 17, 33] {
            let finite = (0..<n).map { Float16(Float($0) - 7.5).bitPattern }
            var o = [Float](repeating: .nan, count: n)
            XCTAssertEqual(finite.withUnsafeBytes { src in o.withUnsafeMutableBufferPointer { weight_widen_f16(src.baseAddress!, n, $0.baseAddress!) } }, n)
            XCTAssertEqual(o, (0..<n).map { Float($0) - 7.5 })
        }
    }
}
