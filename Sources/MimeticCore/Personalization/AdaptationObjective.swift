/// The objective Imitator adapts a new speaker with, and its exact gradients.
///
/// Per reference clip (T frames, D = 3V offsets): y = basis(MLP(v + s)) with the viseme features v
/// fixed, and
///   L = mean_{t,k} (y − g)²                                   reconstruction
///     + 10 · mean_{t≥1,k} ((yₜ − yₜ₋₁) − (gₜ − gₜ₋₁))²        velocity
///     + mean_{t,k} λ · wₜ · (y − g)²                           lip contact (Imitator's frame-weighted MSE, λ = 5)
///     + μ · Σₜ wₜ · mean_p ‖(y_up − y_lp) − (g_up − g_lp)‖² / Σₜ wₜ   lip closure, over the inner-lip pairs p
/// with the means taken over every frame of every clip (so longer clips weigh more). The closure term
/// is the lip-distance part the MSE over thousands of vertices barely sees: where the reference's lips
/// meet (wₜ > 0 around m/b/p), the gap between each upper and lower inner-lip vertex must match. The gradients
/// with respect to the style s, the basis W [D, d] and its bias b are computed in closed form
/// (backpropagation through the LeakyReLU MLP with its weights frozen), checked against PyTorch
/// autograd in the tests.
struct AdaptationObjective {
    struct Clip {
        let features: Matrix        // viseme features [T, d]
        let target: Matrix          // offsets [T, D]
        let frameWeights: [Float]   // lip-contact weights [T] (zeros: none)
    }

    let mlp: [Linear]
    let slope: Float
    let d: Int
    let outputs: Int
    var velocityWeight: Float = 10
    var lipContactWeight: Float = 5
    /// μ of the lip-closure term, and the pairs it measures (none: the term is off).
    var lipClosureWeight: Float = 0
    var lipPairs: [(upper: Int, lower: Int)] = []

    init(head: ImitatorHead, d: Int, outputs: Int) {
        mlp = head.mlp
        slope = head.slope
        self.d = d
        self.outputs = outputs
    }

    struct Gradients {
        var loss: Double = 0
        var style: [Float]
        var weight: [Float]?
        var bias: [Float]?
    }

    /// Loss (and gradients when `wantBasis`/style requested) for style `s`, basis `w` [D, d], `b` [D].
    func evaluate(_ clips: [Clip], style s: [Float], weight w: UnsafePointer<Float>, bias b: UnsafePointer<Float>,
                  gradients wantGradients: Bool, basisGradients: Bool) -> Gradients {
        let D = outputs
        let totalFrames = clips.reduce(0) { $0 + $1.features.rows }
        let velocityFrames = clips.reduce(0) { $0 + max(0, $1.features.rows - 1) }
        let recScale = 1 / Float(max(totalFrames * D, 1))
        let velScale = velocityWeight / Float(max(velocityFrames * D, 1))
        let closureFrames = clips.reduce(Float(0)) { sum, clip in sum + clip.frameWeights.prefix(clip.features.rows).reduce(0, +) }
        let closureScale = lipClosureWeight > 0 && closureFrames > 0 && !lipPairs.isEmpty
            ? lipClosureWeight / (closureFrames * Float(lipPairs.count)) : 0
        var g = Gradients(style: [Float](repeating: 0, count: d),
                          weight: basisGradients ? [Float](repeating: 0, count: D * d) : nil,
                          bias: basisGradients ? [Float](repeating: 0, count: D) : nil)
        var loss = 0.0
        for clip in clips {
            let T = clip.features.rows
            // Forward, keeping every pre-activation for the backward pass.
            var h = clip.features
            let rows = T
            h.data.withUnsafeMutableBufferPointer { hp in s.withUnsafeBufferPointer { Vec.addRows(hp.baseAddress!, rows: rows, cols: d, ld: d, $0.baseAddress!) } }
            var pre: [Matrix] = []
            for layer in mlp {
                var z = layer(h)
                pre.append(z)
                z.data.withUnsafeMutableBufferPointer { Activations.leakyRelu($0.baseAddress!, count: $0.count, slope: slope) }
                h = z
            }
            var y = Matrix(zeros: T, D)
            h.data.withUnsafeBufferPointer { hp in
                y.data.withUnsafeMutableBufferPointer { yp in
                    BLAS.gemmNT(m: T, n: D, k: d, a: hp.baseAddress!, lda: d, b: w, ldb: d, c: yp.baseAddress!, ldc: D)
                    Vec.addRows(yp.baseAddress!, rows: T, cols: D, ld: D, b)
                }
            }
            // Loss and dL/dy, a row at a time with SIMD: every term is a function of the error
            // e = y − g (velocity: eₜ − eₜ₋₁; closure: e_up − e_lp), so y is overwritten with it.
            var dy = Matrix(zeros: T, D)
            var de = [Float](repeating: 0, count: D)
            y.data.withUnsafeMutableBufferPointer { yp in
                clip.target.data.withUnsafeBufferPointer { gp in
                    dy.data.withUnsafeMutableBufferPointer { dp in
                        de.withUnsafeMutableBufferPointer { vp in
                            let e = yp.baseAddress!, d = dp.baseAddress!, v = vp.baseAddress!
                            Vec.axpy(e, gp.baseAddress!, alpha: -1, count: T * D)
                            for t in 0..<T {
                                let row = e + t * D, drow = d + t * D
                                let frameWeight = t < clip.frameWeights.count ? clip.frameWeights[t] : 0
                                let w = (1 + lipContactWeight * frameWeight) * recScale
                                loss += Double(w) * Double(Vec.dot(row, row, count: D))
                                Vec.axpy(drow, row, alpha: 2 * w, count: D)
                                let closureW = closureScale * frameWeight
                                if closureW > 0 {
                                    for pair in lipPairs {
                                        for c in 0..<3 {
                                            let u = 3 * pair.upper + c, l = 3 * pair.lower + c
                                            let gap = row[u] - row[l]
                                            loss += Double(closureW * gap * gap)
                                            drow[u] += 2 * closureW * gap
                                            drow[l] -= 2 * closureW * gap
                                        }
                                    }
                                }
                                if t > 0 {
                                    v.update(from: row, count: D)
                                    Vec.axpy(v, row - D, alpha: -1, count: D)
                                    loss += Double(velScale) * Double(Vec.dot(v, v, count: D))
                                    Vec.axpy(drow, v, alpha: 2 * velScale, count: D)
                                    Vec.axpy(drow - D, v, alpha: -2 * velScale, count: D)
                                }
                            }
                        }
                    }
                }
            }
            guard wantGradients else { continue }
            // Basis: dW = dyᵀ h, db = Σₜ dy.
            if basisGradients {
                dy.data.withUnsafeBufferPointer { dp in
                    h.data.withUnsafeBufferPointer { hp in
                        g.weight!.withUnsafeMutableBufferPointer { gw in
                            BLAS.gemmTN(m: D, n: d, k: T, a: dp.baseAddress!, lda: D, b: hp.baseAddress!, ldb: d, c: gw.baseAddress!, ldc: d, beta: 1)
                        }
                    }
                    g.bias!.withUnsafeMutableBufferPointer { gb in
                        for t in 0..<T { Vec.add(gb.baseAddress!, dp.baseAddress! + t * D, count: D) }
                    }
                }
            }
            // Back through the basis and the MLP to the style.
            var dh = Matrix(zeros: T, d)
            dy.data.withUnsafeBufferPointer { dp in
                dh.data.withUnsafeMutableBufferPointer { hp in
                    BLAS.gemmNN(m: T, n: d, k: D, a: dp.baseAddress!, lda: D, b: w, ldb: d, c: hp.baseAddress!, ldc: d)
                }
            }
            for (i, layer) in mlp.enumerated().reversed() {
                let z = pre[i]
                for j in 0..<dh.count where z.data[j] < 0 { dh.data[j] *= slope }
                var dPrev = Matrix(zeros: T, d)
                dh.data.withUnsafeBufferPointer { dp in
                    dPrev.data.withUnsafeMutableBufferPointer { pp in
                        BLAS.gemmNN(m: T, n: d, k: d, a: dp.baseAddress!, lda: d, b: layer.weight.pointer, ldb: d, c: pp.baseAddress!, ldc: d)
                    }
                }
                dh = dPrev
            }
            for t in 0..<T { for c in 0..<d { g.style[c] += dh.data[t * d + c] } }
        }
        g.loss = loss
        return g
    }
}
