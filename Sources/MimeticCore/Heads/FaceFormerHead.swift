/// FaceFormer (Fan et al. 2022): motion tokens are fed back through the motion encoder.
///
/// token₀ = s, tokenₜ = W_f ŷₜ₋₁ + b_f + s with ŷ = W_r h + b_r the predicted offsets. The
/// feedback is folded into one d×d product, (W_f W_r) h + (W_f b_r + b_f): the same linear map
/// without the 3V-wide intermediate in the loop, so the 3V projection runs once over all frames.
struct FaceFormerHead {
    let motionIn: Linear    // vertice_map: 3V -> d
    let motionOut: Linear   // vertice_map_r: d -> 3V
    let styleTable: Weight  // obj_vector: [d, n_styles]
    let feedback: [Float]   // W_f W_r, [d, d]
    let feedbackBias: [Float]

    init(_ store: TensorStore, config: ModelConfig) throws {
        let d = config.decoder.d_model, out = config.outputSize
        motionIn = try Linear(store, "motion_in", in: out, out: d)
        motionOut = try Linear(store, "motion_out", in: d, out: out)
        styleTable = try store.weight("style.weight", shape: [d, config.styleNames.count])
        (feedback, feedbackBias) = fuseFeedback(into: motionIn, from: motionOut)
    }
}
