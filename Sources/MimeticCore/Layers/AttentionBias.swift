
/// The per-head slopes of ALiBi (Press et al. 2022), as FaceFormer builds them: for a power of two
/// n, a geometric sequence starting at 2^(-8/n); otherwise the power-of-two set below n followed by
/// every other slope of the set for 2n.
enum ALiBi {
    static func slopes(heads n: Int) -> [Float] {
        func powerOfTwo(_ n: Int) -> [Double] {
            let start = pow(2.0, -pow(2.0, -(log2(Double(n)) - 3)))
            return (0..<n).map { start * pow(start, Double($0)) }
        }
        let l2 = log2(Double(n))
        if l2 == l2.rounded() { return powerOfTwo(n).map { Float($0) } }
        let closest = Int(pow(2.0, floor(l2)))
        let extra = stride(from: 0, to: 2 * closest, by: 2).map { powerOfTwo(2 * closest)[$0] }
        return (powerOfTwo(closest) + extra.prefix(n - closest)).map { Float($0) }
    }
}

/// Sinusoidal positional codes: row q is [sin(q·ω_0), cos(q·ω_0), sin(q·ω_1), ...] with
/// ω_i = 10000^(−2i/d), the table FaceFormer's periodic encoding tiles with period p.
enum Sinusoid {
    static func table(rows: Int, width d: Int) -> [Float] {
        var pe = [Float](repeating: 0, count: rows * d)
        for q in 0..<rows {
            for i in stride(from: 0, to: d, by: 2) {
                // torch evaluates exp(i · (−ln 10000 / d)) and the products in float32.
                let w = Float(exp(Double(Float(i)) * Double(Float(-log(10000.0) / Double(d)))))
                let arg = Float(q) * w
                pe[q * d + i] = Float(sin(Double(arg)))
                if i + 1 < d { pe[q * d + i + 1] = Float(cos(Double(arg))) }
            }
        }
        return pe
    }
}
