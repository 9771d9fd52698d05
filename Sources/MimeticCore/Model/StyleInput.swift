/// How a caller chooses the speaking style of an animation.
public enum StyleInput: Sendable {
    /// One training subject: the one-hot slot of FaceFormer/Imitator, or a row of a Mimic
    /// model's `style_codes`.
    case slot(Int)
    /// A blend over the slots (one weight per slot; FaceFormer/Imitator styles are linear in the
    /// one-hot input, so this is the style of the weighted mix).
    case weights([Float])
    /// A style vector given directly (d floats): a personalised Imitator style, a Mimic code.
    case code([Float])
    /// Mimic: a reference motion clip, [frames, 3V] vertex offsets from the template, encoded by
    /// the style encoder.
    case motion(Matrix)
}
