/// Styles: what the decoder is conditioned on (a one-hot slot blend, a code, a Mimic reference clip).
extension MimeticModel {
    /// The style vector the decoder uses (FaceFormer/Imitator: d-dim embedding; Mimic: code).
    public func styleVector(_ style: StyleInput) throws -> [Float] {
        switch head {
        case .faceformer(let h): return try styleFromTable(h.styleTable, style, family: "faceformer")
        case .imitator(let h): return try styleFromTable(h.styleTable, style, family: "imitator")
        case .mimic(let h): return try h.styleCode(style, outputSize: outputSize)
        }
    }

    /// Slot count a style blend is over (one-hot width, or Mimic's shipped codes).
    public var styleSlots: Int { config.styleNames.count }

    /// A style blend Σ w_k style_k written to `out` (d floats) without allocating: the run-time
    /// style setters of a stream use this. Returns false when the model has no such slots or the
    /// weights are not finite.
    func styleBlend(_ w: UnsafePointer<Float>, count n: Int, into out: UnsafeMutablePointer<Float>) -> Bool {
        let d = config.decoder.d_model
        guard n == styleSlots, n > 0 else { return false }
        for k in 0..<n where !w[k].isFinite { return false }
        out.update(repeating: 0, count: d)
        switch head {
        case .faceformer(let h): for r in 0..<d { for k in 0..<n { out[r] += h.styleTable[r * n + k] * w[k] } }
        case .imitator(let h): for r in 0..<d { for k in 0..<n { out[r] += h.styleTable[r * n + k] * w[k] } }
        case .mimic(let h):
            guard let codes = h.styleCodes else { return false }
            for k in 0..<n { Vec.axpy(out, codes.pointer + k * d, alpha: w[k], count: d) }
        }
        return true
    }

    /// Mimic's style code from a reference clip, using its last `style_window` frames as the
    /// original demo does (other families: an error).
    public func styleCode(fromMotion motion: Matrix, lastFrames: Int? = nil) throws -> [Float] {
        guard case .mimic = head else {
            throw MimeticError.invalidArgument("only Mimic models encode a style from reference motion; this is a \(family.rawValue) model")
        }
        let window = lastFrames ?? config.mimic!.style_window
        let clip = motion.rows > window ? motion.rows((motion.rows - window)..<motion.rows) : motion
        let code = try styleVector(.motion(clip))
        try Self.checkFinite(code, "style code")
        return code
    }
}
