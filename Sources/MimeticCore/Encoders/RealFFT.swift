
/// Power spectrum |rfft(x · w, n)|² of a real signal (zero-padded to n, a power of two) through a
/// complex FFT of n/2 points, in float64.
struct RealFFT {
    let n: Int
    let half: Int
    let bitReverse: [Int]
    let cosTable: [Double]   // cos(2π m / half), m < half / 2
    let sinTable: [Double]
    let postCos: [Double]    // cos(2π k / n), k ≤ half
    let postSin: [Double]

    init(size n: Int) {
        self.n = n
        half = n / 2
        let h = half
        var bits = 0
        while (1 << bits) < h { bits += 1 }
        bitReverse = (0..<h).map { i in
            var r = 0
            for b in 0..<bits where i & (1 << b) != 0 { r |= 1 << (bits - 1 - b) }
            return r
        }
        cosTable = (0..<max(h / 2, 1)).map { cos(2 * Double.pi * Double($0) / Double(h)) }
        sinTable = (0..<max(h / 2, 1)).map { sin(2 * Double.pi * Double($0) / Double(h)) }
        postCos = (0...h).map { cos(2 * Double.pi * Double($0) / Double(n)) }
        postSin = (0...h).map { sin(2 * Double.pi * Double($0) / Double(n)) }
    }

    var scratchDoubles: Int { 2 * half }

    /// `power[k]`, k = 0 ... n/2, of the first `winLength` samples times `window`, zero-padded to n.
    func power(winLength: Int, samples x: UnsafePointer<Float>, window w: UnsafePointer<Double>,
               scratch: UnsafeMutablePointer<Double>, into power: UnsafeMutablePointer<Double>) {
        let h = half
        let re = scratch, im = scratch + h
        // z[m] = x[2m] + i x[2m+1], stored bit-reversed for the in-place FFT.
        for m in 0..<h {
            let a = 2 * m, b = 2 * m + 1
            let xr = a < winLength ? Double(x[a]) * w[a] : 0
            let xi = b < winLength ? Double(x[b]) * w[b] : 0
            let r = bitReverse[m]
            re[r] = xr
            im[r] = xi
        }
        cosTable.withUnsafeBufferPointer { ct in
            sinTable.withUnsafeBufferPointer { st in
                var len = 2
                while len <= h {
                    let halfLen = len / 2, step = h / len
                    var i = 0
                    while i < h {
                        for j in 0..<halfLen {
                            let wr = ct[j * step], wi = -st[j * step]   // e^{-2πi j/len}
                            let p = i + j, q = p + halfLen
                            let vr = re[q] * wr - im[q] * wi, vi = re[q] * wi + im[q] * wr
                            re[q] = re[p] - vr; im[q] = im[p] - vi
                            re[p] += vr; im[p] += vi
                        }
                        i += len
                    }
                    len *= 2
                }
            }
        }
        // X[k] = E[k] + e^{-2πik/n} O[k], E = (Z[k] + conj Z[h−k]) / 2, O = −i (Z[k] − conj Z[h−k]) / 2.
        for k in 0...h {
            let a = k % h, b = (h - k) % h
            let zr = re[a], zi = im[a], cr = re[b], ci = -im[b]
            let er = (zr + cr) / 2, ei = (zi + ci) / 2
            let dr = (zr - cr) / 2, di = (zi - ci) / 2
            let or = di, oi = -dr                                   // −i (dr + i di)
            let c = postCos[k], s = -postSin[k]                     // e^{-2πik/n}
            let xr = er + or * c - oi * s, xi = ei + or * s + oi * c
            power[k] = xr * xr + xi * xi
        }
    }
}
