/// Mimic's style encoder (Fu et al. 2024): a reference motion clip → one style code.
///
/// motion_map → N × [Conv1d(k3, no bias) → LayerNorm over channels → ReLU] → LayerNorm → Linear
/// → + pe[0] → transformer encoder (post-LN, ReLU) → Linear → mean over time.
/// The original positional encoding indexes its table by batch instead of time, so with batch 1
/// every frame gets pe[0] = [0, 1, 0, 1, …]: a constant, reproduced here as such.
struct MimicStyleEncoder {
    let motionMap: Linear
    let convs: [(conv: Conv1d, norm: LayerNorm)]
    let projectionNorm: LayerNorm
    let projection: Linear
    let layers: [EncoderLayer]
    let output: Linear
    let width: Int

    init(_ store: TensorStore, config: ModelConfig) throws {
        let d = config.decoder.d_model, m = config.mimic!
        let eps = m.style_norm_eps ?? 1e-5
        width = d
        motionMap = try Linear(store, "style_encoder.motion_map", in: config.outputSize, out: d)
        convs = try (0..<m.style_conv_layers).map { i in
            (try Conv1d(store, "style_encoder.conv.\(i)", in: d, out: d, kernel: 3, padding: 1, bias: false),
             try LayerNorm(store, "style_encoder.conv.\(i).norm", features: d, eps: eps))
        }
        projectionNorm = try LayerNorm(store, "style_encoder.projection.norm", features: d, eps: eps)
        projection = try Linear(store, "style_encoder.projection", in: d, out: d)
        layers = try (0..<m.style_layers).map {
            try EncoderLayer(store, "style_encoder.layers.\($0)", width: d, heads: m.style_heads, ffnDim: m.style_ffn_dim,
                             activation: .relu, eps: eps, preNorm: false)
        }
        output = try Linear(store, "style_encoder.output", in: d, out: d)
    }

    /// `motion`: [frames, 3V] offsets from the template. Returns the d-dim style code.
    func callAsFunction(_ motion: Matrix) -> [Float] {
        var h = motionMap(motion)
        for (conv, norm) in convs {
            h = conv(h)
            norm(&h)
            let n = h.count
            h.data.withUnsafeMutableBufferPointer { Activations.relu($0.baseAddress!, count: n) }
        }
        projectionNorm(&h)
        h = projection(h)
        let pe0 = Sinusoid.table(rows: 1, width: width)
        let rows = h.rows, d = width
        h.data.withUnsafeMutableBufferPointer { hp in pe0.withUnsafeBufferPointer { Vec.addRows(hp.baseAddress!, rows: rows, cols: d, ld: d, $0.baseAddress!) } }
        for layer in layers { h = layer(h) }
        h = output(h)
        var code = [Float](repeating: 0, count: d)
        for r in 0..<rows { for c in 0..<d { code[c] += h[r, c] } }
        return code.map { $0 / Float(rows) }
    }
}
