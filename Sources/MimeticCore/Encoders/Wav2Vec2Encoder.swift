
/// wav2vec 2.0 (Baevski et al. 2020) as FaceFormer, Imitator and Mimic run it: a 7-layer conv
/// feature encoder at 50 Hz, a feature projection, a convolutional relative positional embedding
/// and a transformer. The three originals resample between the CNN and the projection, so the
/// stages are exposed separately and the model in between does the alignment.
final class Wav2Vec2Encoder {
    struct ConvLayer {
        let conv: Conv1d
        let norm: (gamma: Weight, beta: Weight)?   // group norm (layer 0 of "group") or layer norm ("layer")
    }

    let config: ModelConfig.Wav2Vec2
    let convLayers: [ConvLayer]
    let projectionNorm: LayerNorm
    let projection: Linear
    let posConv: Conv1d
    let norm: LayerNorm
    let layers: [EncoderLayer]

    init(_ store: TensorStore, config c: ModelConfig.Wav2Vec2) throws {
        config = c
        var layers: [ConvLayer] = []
        var inCh = 1
        for i in 0..<c.conv_dim.count {
            let conv = try Conv1d(store, "encoder.conv.\(i)", in: inCh, out: c.conv_dim[i], kernel: c.conv_kernel[i],
                                  stride: c.conv_stride[i], bias: c.conv_bias)
            var norm: (Weight, Weight)? = nil
            if c.feat_extract_norm == "layer" || i == 0 {
                norm = (try store.weight("encoder.conv.\(i).norm.weight", shape: [c.conv_dim[i]]),
                        try store.weight("encoder.conv.\(i).norm.bias", shape: [c.conv_dim[i]]))
            }
            layers.append(ConvLayer(conv: conv, norm: norm))
            inCh = c.conv_dim[i]
        }
        convLayers = layers
        projectionNorm = try LayerNorm(store, "encoder.projection.norm", features: inCh, eps: c.layer_norm_eps)
        projection = try Linear(store, "encoder.projection", in: inCh, out: c.hidden_size)
        posConv = try Conv1d(store, "encoder.pos_conv", in: c.hidden_size, out: c.hidden_size, kernel: c.pos_conv_kernel,
                             padding: c.pos_conv_kernel / 2, groups: c.pos_conv_groups, bias: true)
        norm = try LayerNorm(store, "encoder.norm", features: c.hidden_size, eps: c.layer_norm_eps)
        self.layers = try (0..<c.num_layers).map {
            try EncoderLayer(store, "encoder.layers.\($0)", width: c.hidden_size, heads: c.num_heads, ffnDim: c.intermediate_size,
                             activation: .gelu, eps: c.layer_norm_eps, preNorm: c.stable_layer_norm)
        }
    }

    var cnnChannels: Int { config.conv_dim.last! }

    /// Output frames of each conv layer for `n` input samples (chaining floor((n - K) / S) + 1).
    func cnnLayerFrames(samples n: Int) -> [Int] {
        var len = n
        return zip(config.conv_kernel, config.conv_stride).map { k, s in
            len = len >= k ? (len - k) / s + 1 : 0
            return len
        }
    }

    /// Number of CNN frames for `n` input samples.
    func cnnFrames(samples n: Int) -> Int { cnnLayerFrames(samples: n).last ?? 0 }

    /// Minimum number of samples that yields at least one CNN frame.
    var minimumSamples: Int {
        var need = 1
        for (k, s) in zip(config.conv_kernel, config.conv_stride).reversed() { need = (need - 1) * s + k }
        return need
    }

    /// Per-utterance zero-mean / unit-variance normalisation (population variance), in float64
    /// like the originals' feature extractor (numpy).
    static func normalize(_ x: [Float], eps: Double) -> [Float] {
        let n = Double(x.count)
        var sum = 0.0
        for v in x { sum += Double(v) }
        let mean = sum / n
        var ss = 0.0
        for v in x { let d = Double(v) - mean; ss += d * d }
        let inv = 1 / (ss / n + eps).squareRoot()
        return x.map { Float((Double($0) - mean) * inv) }
    }

    /// The conv feature encoder: [N] samples -> [L, C] (time-major). The first layer's GroupNorm
    /// normalises each channel over the whole utterance.
    func cnn(_ audio: [Float]) -> Matrix {
        var h = Matrix(rows: audio.count, cols: 1, data: audio)
        for i in convLayers.indices {
            let conv = convLayers[i].conv
            var y = Matrix(zeros: conv.outputLength(h.rows), conv.outChannels)
            guard y.rows > 0 else { return y }
            let heap = HeapArena(floats: conv.scratchFloats(rows: h.rows))
            let rows = h.rows
            h.data.withUnsafeBufferPointer { xp in
                y.data.withUnsafeMutableBufferPointer { yp in
                    _ = convLayer(i, xp.baseAddress!, rows: rows, into: yp.baseAddress!, arena: &heap.arena) { x, n, gamma, beta in
                        Norm.channelNormOverTime(x, rows: n, cols: conv.outChannels, gamma: gamma, beta: beta, eps: config.layer_norm_eps)
                    }
                }
            }
            h = y
        }
        return h
    }

    /// Whether conv layer `i` normalises each channel over time: a "group" feature extractor's
    /// first layer (GroupNorm with one group per channel); the others normalise each row, or not at all.
    func normalizesOverTime(layer i: Int) -> Bool { config.feat_extract_norm == "group" && i == 0 }

    /// Conv layer `i` over `rows` input rows at `x`: the conv, its norm, GELU, into `y`; returns the
    /// output rows. The over-time norm is the caller's (`channelNorm(y, rows, gamma, beta)`):
    /// offline over the utterance, a stream over every frame so far.
    func convLayer(_ i: Int, _ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, arena: inout Arena,
                   channelNorm: (UnsafeMutablePointer<Float>, Int, UnsafePointer<Float>, UnsafePointer<Float>) -> Void) -> Int {
        let layer = convLayers[i]
        let outputs = layer.conv.forward(x, rows: rows, into: y, arena: &arena)
        if let (g, b) = layer.norm {
            if normalizesOverTime(layer: i) {
                channelNorm(y, outputs, g.pointer, b.pointer)
            } else {
                Norm.layerNorm(y, rows: outputs, cols: layer.conv.outChannels, gamma: g.pointer, beta: b.pointer, eps: config.layer_norm_eps)
            }
        }
        Activations.gelu(y, count: outputs * layer.conv.outChannels)
        return outputs
    }

    /// Feature projection: LayerNorm then Linear, [T, C] -> [T, H].
    func project(_ features: Matrix) -> Matrix {
        var h = features
        projectionNorm(&h)
        return projection(h)
    }

    /// In-place form: normalises the `n` feature rows at `features` and writes the projection to `out`.
    func projectForward(_ features: UnsafeMutablePointer<Float>, rows n: Int, into out: UnsafeMutablePointer<Float>) {
        projectionNorm.apply(features, rows: n, cols: cnnChannels)
        projection.apply(features, rows: n, ldx: cnnChannels, into: out, ldy: config.hidden_size)
    }

    /// Scratch `transformForward` needs for `n` rows.
    func transformScratchFloats(rows n: Int) -> Int {
        let h = config.hidden_size
        let positional = Arena.rounded(posConv.outputLength(n) * h) + posConv.scratchFloats(rows: n)
        let layer = layers.map { $0.scratchFloats(rows: n) }.max() ?? 0
        return max(positional, layer)
    }

    /// Positional conv embedding and the transformer layers, in place over `n` rows [n, H].
    func transformForward(_ x: UnsafeMutablePointer<Float>, rows n: Int, arena: inout Arena, progress: ((Int, Int) -> Void)? = nil) {
        let h = config.hidden_size
        do {
            let mark = arena.mark()
            defer { arena.release(to: mark) }
            // SamePad: an even kernel with padding k/2 yields one extra frame, which is dropped.
            let pos = arena.take(posConv.outputLength(n) * h)
            posConv.forward(x, rows: n, into: pos, arena: &arena)
            Activations.gelu(pos, count: n * h)
            Vec.add(x, pos, count: n * h)
        }
        if !config.stable_layer_norm { norm.apply(x, rows: n, cols: h) }
        for (i, layer) in layers.enumerated() {
            layer.forward(x, rows: n, arena: &arena)
            progress?(i + 1, layers.count)
        }
        if config.stable_layer_norm { norm.apply(x, rows: n, cols: h) }
    }

    /// Positional conv embedding and the transformer layers: [T, H] -> [T, H].
    func transform(_ x: Matrix, progress: ((Int, Int) -> Void)? = nil) -> Matrix {
        var h = x
        let heap = HeapArena(floats: transformScratchFloats(rows: x.rows))
        h.data.withUnsafeMutableBufferPointer { transformForward($0.baseAddress!, rows: x.rows, arena: &heap.arena, progress: progress) }
        return h
    }
}
