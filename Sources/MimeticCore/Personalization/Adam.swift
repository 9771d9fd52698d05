/// Adam (Kingma & Ba 2015) over a flat parameter vector.
struct Adam {
    var m: [Float], v: [Float]
    var t = 0
    let learningRate: Float
    let beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8

    init(count: Int, learningRate: Float) {
        m = [Float](repeating: 0, count: count)
        v = m
        self.learningRate = learningRate
    }

    mutating func step(_ x: inout [Float], _ g: [Float]) {
        t += 1
        let c1 = 1 - powf(beta1, Float(t)), c2 = 1 - powf(beta2, Float(t))
        for i in 0..<x.count {
            m[i] = beta1 * m[i] + (1 - beta1) * g[i]
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
            x[i] -= learningRate * (m[i] / c1) / ((v[i] / c2).squareRoot() + epsilon)
        }
    }
}
