
/// The fixed front end: windows of 16 kHz samples → log-mel rows, in float64 as the PyTorch module
/// computes them (periodic Hann window, zero-padded real FFT, power, HTK triangles, log with a floor).
struct LogMelFrontEnd {
    let nFFT: Int
    let winLength: Int
    let windowAhead: Int
    let nMels: Int
    let subframes: Int
    let fps: Int
    let logFloor: Double
    let window: [Double]
    /// Band b weighs FFT bins bandFirst[b] ..< bandFirst[b] + bandCount[b] with bandWeights[bandOffset[b]...].
    let bandFirst: [Int]
    let bandCount: [Int]
    let bandOffset: [Int]
    let bandWeights: [Double]
    let fft: RealFFT

    init(_ c: ModelConfig.RealtimeEncoder, fps: Int) {
        nFFT = c.n_fft
        winLength = c.win_length
        windowAhead = c.window_ahead
        nMels = c.n_mels
        subframes = c.subframes
        self.fps = fps
        logFloor = c.log_floor
        window = (0..<c.win_length).map { 0.5 - 0.5 * cos(2 * Double.pi * Double($0) / Double(c.win_length)) }
        let fb = LogMelFrontEnd.htkFilterbank(nMels: c.n_mels, nFFT: c.n_fft, fMin: c.f_min, fMax: c.f_max)
        var first: [Int] = [], count: [Int] = [], offset: [Int] = [], weights: [Double] = []
        for row in fb {
            let nz = row.indices.filter { row[$0] > 0 }
            let lo = nz.first ?? 0, hi = (nz.last ?? -1) + 1
            first.append(lo)
            count.append(hi - lo)
            offset.append(weights.count)
            if hi > lo { weights += row[lo..<hi] }
        }
        bandFirst = first
        bandCount = count
        bandOffset = offset
        bandWeights = weights
        fft = RealFFT(size: c.n_fft)
    }

    /// HTK mel scale, n_mels + 2 points equally spaced in mel from f_min to f_max, triangles with
    /// peak 1 at the bin frequencies b · 16000 / n_fft (tools/mimetic_tools/realtime_encoder.py).
    static func htkFilterbank(nMels: Int, nFFT: Int, fMin: Double, fMax: Double) -> [[Double]] {
        func mel(_ f: Double) -> Double { 2595 * log10(1 + f / 700) }
        let m0 = mel(fMin), m1 = mel(fMax)
        let step = (m1 - m0) / Double(nMels + 1)
        let hz = (0...(nMels + 1)).map { i -> Double in
            let m = i == nMels + 1 ? m1 : m0 + Double(i) * step   // numpy.linspace's endpoint is exact
            return 700 * (pow(10, m / 2595) - 1)
        }
        let bins = nFFT / 2 + 1
        return (0..<nMels).map { b in
            let lo = hz[b], c = hz[b + 1], hi = hz[b + 2]
            return (0..<bins).map { k in
                let f = Double(k) * 16000 / Double(nFFT)
                return max(0, min((f - lo) / (c - lo), (hi - f) / (hi - c)))
            }
        }
    }

    /// Anchor sample of mel frame j: floor(j · 16000 / (k · fps)).
    @inline(__always) func anchor(_ j: Int) -> Int { j * 16000 / (subframes * fps) }
    /// End (exclusive) of mel frame j's window.
    @inline(__always) func windowEnd(_ j: Int) -> Int { anchor(j) + windowAhead }

    /// Doubles `logMel` needs as scratch.
    var scratchDoubles: Int { fft.scratchDoubles + nFFT / 2 + 1 }

    /// Copies mel frame j's window (global samples [end − win, end)) from `samples`, which holds
    /// global samples base ..< base + available; zeros outside.
    func fillWindow(_ j: Int, samples: UnsafePointer<Float>, base: Int, available: Int, into w: UnsafeMutablePointer<Float>) {
        let end = windowEnd(j), start = end - winLength
        for i in 0..<winLength {
            let g = start + i
            w[i] = g >= 0 && g < base + available ? samples[g - base] : 0
        }
    }

    /// log(max(mel, floor)) of one window of `winLength` samples into `out` (nMels floats).
    func logMel(window x: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Double>, into out: UnsafeMutablePointer<Float>) {
        let power = scratch + fft.scratchDoubles
        window.withUnsafeBufferPointer { w in
            fft.power(winLength: winLength, samples: x, window: w.baseAddress!, scratch: scratch, into: power)
        }
        bandWeights.withUnsafeBufferPointer { wts in
            for b in 0..<nMels {
                var s = 0.0
                let f = bandFirst[b], o = bandOffset[b]
                for i in 0..<bandCount[b] { s += wts[o + i] * power[f + i] }
                out[b] = Float(Glibc.log(max(s, logFloor)))
            }
        }
    }
}
