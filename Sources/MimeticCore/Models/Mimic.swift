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

/// Mimic's decoder head: motion feedback like FaceFormer's, but no style in the tokens — the
/// style reaches every norm through SALN instead — and token 0 is the embedded initial state.
struct MimicHead {
    let motionIn: Linear    // decoder.motion_map: 3V -> d
    let motionOut: Linear   // decoder.motion_map_r: d -> 3V
    let styleEncoder: MimicStyleEncoder
    let styleCodes: Weight? // optional [n_styles, d]
    let feedback: [Float]
    let feedbackBias: [Float]

    init(_ store: TensorStore, config: ModelConfig) throws {
        let d = config.decoder.d_model, out = config.outputSize
        motionIn = try Linear(store, "motion_in", in: out, out: d)
        motionOut = try Linear(store, "motion_out", in: d, out: out)
        styleEncoder = try MimicStyleEncoder(store, config: config)
        let n = config.styleNames.count
        styleCodes = n > 0 ? try store.weight("style_codes", shape: [n, d]) : nil
        (feedback, feedbackBias) = fuseFeedback(into: motionIn, from: motionOut)
    }

    func styleCode(_ style: StyleInput, outputSize: Int) throws -> [Float] {
        let d = styleEncoder.width
        switch style {
        case .motion(let m):
            guard m.cols == outputSize else {
                throw MimeticError.invalidArgument("reference motion has \(m.cols) values per frame; this model's meshes have \(outputSize) (3 × vertices)")
            }
            guard m.rows >= 1 else { throw MimeticError.invalidArgument("reference motion has no frames") }
            guard m.data.allSatisfy({ $0.isFinite }) else { throw MimeticError.invalidArgument("reference motion contains NaN or Inf") }
            return styleEncoder(m)
        case .code(let c):
            guard c.count == d else { throw MimeticError.invalidArgument("style code has \(c.count) values; this Mimic model's codes have \(d)") }
            guard c.allSatisfy({ $0.isFinite }) else { throw MimeticError.invalidArgument("style code contains NaN or Inf") }
            return c
        case .slot, .weights:
            guard let table = styleCodes else {
                throw MimeticError.invalidArgument("this Mimic model ships no style codes: give a reference motion (--style-ref) or a style code")
            }
            let n = table.shape[0]
            // Codes are rows here; reuse the column-table logic on the transposed view.
            var columns = [Float](repeating: 0, count: d * n)
            for k in 0..<n { for r in 0..<d { columns[r * n + k] = table[k * d + r] } }
            return try columns.withUnsafeBufferPointer {
                try styleFromTable(Weight(pointer: $0.baseAddress!, shape: [d, n], name: "style_codes"), style, family: "mimic")
            }
        }
    }
}
