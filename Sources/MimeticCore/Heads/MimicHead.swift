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
