/// y = W x + b with W stored [out, in]; over a time-major [T, in] input it is one GEMM (one GEMV
/// for a single frame).
struct Linear {
    let weight: Weight
    let bias: Weight?
    let inFeatures: Int
    let outFeatures: Int

    init(_ store: TensorStore, _ name: String, in inFeatures: Int, out outFeatures: Int, bias hasBias: Bool = true) throws {
        weight = try store.weight("\(name).weight", shape: [outFeatures, inFeatures])
        bias = hasBias ? try store.weight("\(name).bias", shape: [outFeatures]) : nil
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
    }

    func callAsFunction(_ x: Matrix) -> Matrix {
        precondition(x.cols == inFeatures, "Linear \(weight.name): input has \(x.cols) features, expected \(inFeatures)")
        var y = Matrix(zeros: x.rows, outFeatures)
        x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
                apply(xp.baseAddress!, rows: x.rows, ldx: inFeatures, into: yp.baseAddress!, ldy: outFeatures)
            }
        }
        return y
    }

    /// Raw form: `rows` inputs of `inFeatures` at stride `ldx` into outputs at stride `ldy`.
    /// Allocates nothing (the streaming path relies on that).
    func apply(_ x: UnsafePointer<Float>, rows: Int, ldx: Int, into y: UnsafeMutablePointer<Float>, ldy: Int, accumulate: Bool = false) {
        BLAS.gemmNT(m: rows, n: outFeatures, k: inFeatures, a: x, lda: ldx, b: weight.pointer, ldb: inFeatures,
                    c: y, ldc: ldy, beta: accumulate ? 1 : 0)
        if let b = bias { Vec.addRows(y, rows: rows, cols: outFeatures, ld: ldy, b.pointer) }
    }
}

/// LayerNorm over the feature axis with a learned affine part.
struct LayerNorm {
    let gamma: Weight
    let beta: Weight
    let eps: Float

    init(_ store: TensorStore, _ name: String, features: Int, eps: Float) throws {
        gamma = try store.weight("\(name).weight", shape: [features])
        beta = try store.weight("\(name).bias", shape: [features])
        self.eps = eps
    }

    func callAsFunction(_ x: inout Matrix) {
        precondition(x.cols == gamma.count)
        let (rows, cols) = (x.rows, x.cols)
        x.data.withUnsafeMutableBufferPointer { p in
            Norm.layerNorm(p.baseAddress!, rows: rows, cols: cols, gamma: gamma.pointer, beta: beta.pointer, eps: eps)
        }
    }

    func apply(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        Norm.layerNorm(x, rows: rows, cols: cols, gamma: gamma.pointer, beta: beta.pointer, eps: eps)
    }
}

/// Position-wise feed-forward block: down(act(up(x))).
struct FeedForward {
    enum Activation { case gelu, relu }
    let up: Linear
    let down: Linear
    let activation: Activation

    init(_ store: TensorStore, _ name: String, features: Int, hidden: Int, activation: Activation) throws {
        up = try Linear(store, "\(name).up", in: features, out: hidden)
        down = try Linear(store, "\(name).down", in: hidden, out: features)
        self.activation = activation
    }

    func scratchFloats(rows n: Int) -> Int { Arena.rounded(n * up.outFeatures) }

    /// `n` rows at `x` → `n` rows at `y` (may not alias).
    func forward(_ x: UnsafePointer<Float>, rows n: Int, into y: UnsafeMutablePointer<Float>, arena: inout Arena) {
        let mark = arena.mark()
        defer { arena.release(to: mark) }
        let hidden = arena.take(n * up.outFeatures)
        up.apply(x, rows: n, ldx: up.inFeatures, into: hidden, ldy: up.outFeatures)
        switch activation {
        case .gelu: Activations.gelu(hidden, count: n * up.outFeatures)
        case .relu: Activations.relu(hidden, count: n * up.outFeatures)
        }
        down.apply(hidden, rows: n, ldx: down.inFeatures, into: y, ldy: down.outFeatures)
    }

    func callAsFunction(_ x: Matrix) -> Matrix {
        var y = Matrix(zeros: x.rows, down.outFeatures)
        let heap = HeapArena(floats: scratchFloats(rows: x.rows))
        x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { forward(xp.baseAddress!, rows: x.rows, into: $0.baseAddress!, arena: &heap.arena) }
        }
        return y
    }
}
