/// One motion frame at a time, for every family, with all mutable state in caller memory:
/// offline animation loops over it, and a stream keeps its state inside its one buffer.
///
/// Tokens (what the decoder reads at position t, before the positional code):
///   FaceFormer  token₀ = s,                tokenₜ = W_f ŷₜ₋₁ + b_f + s   (motion feedback + style)
///   Imitator    token₀ = 0 (or see below), tokenₜ = vₜ₋₁               (its own viseme features)
///   Mimic       token₀ = W_m m₀ + b_m,     tokenₜ = W_m ŷₜ₋₁ + b_m        (motion feedback; style via SALN)
/// Outputs: FaceFormer/Mimic ŷₜ = W_r hₜ + b_r; Imitator ŷₜ = basis(MLP(vₜ + s)).
final class FrameDecoder {
    /// Float offsets of each region in a decoder state block.
    struct Layout {
        let kv, scratch, token, style, affine, cross, hidden, head, first: Int
        let floats: Int

        init(decoder: AutoregressiveDecoder, keysPerFrame: Int) {
            var at = 0
            func region(_ n: Int) -> Int { defer { at += Arena.rounded(n) }; return at }
            let d = decoder.d
            kv = region(decoder.kvFloats)
            scratch = region(decoder.scratchFloats)
            token = region(d)
            style = region(d)
            affine = region(decoder.affineFloats)
            cross = region(decoder.crossFloats(keysPerFrame: keysPerFrame))
            hidden = region(d)
            head = region(2 * d)
            first = region(d)
            floats = at
        }
    }

    let decoder: AutoregressiveDecoder
    let head: MimeticModel.Head
    let keysPerFrame: Int
    let outputSize: Int
    let layout: Layout
    /// The motion basis input-major (`WideLinear`), for models that stream many characters; nil:
    /// `motionOut` as loaded.
    let wideBasis: WideLinear?
    var d: Int { decoder.d }

    init(decoder: AutoregressiveDecoder, head: MimeticModel.Head, keysPerFrame: Int, outputSize: Int, wideBasis: Bool = false) {
        self.decoder = decoder
        self.head = head
        self.keysPerFrame = keysPerFrame
        self.outputSize = outputSize
        layout = Layout(decoder: decoder, keysPerFrame: keysPerFrame)
        self.wideBasis = wideBasis ? WideLinear(Self.motionOut(of: head)) : nil
    }

    /// Starts an utterance with style vector `style` (d floats) and, for Mimic, the offsets of the
    /// frame before the first (nil: zeros, as the original demo starts).
    /// `style` may be the state's own style region (a reset keeps the current style): it is
    /// copied in before the rest of the state is cleared, and nothing is allocated.
    func begin(_ state: UnsafeMutablePointer<Float>, style: UnsafePointer<Float>, initialOffsets: UnsafePointer<Float>?) {
        let s = state + layout.style
        if s != UnsafeMutablePointer(mutating: style) { s.update(from: style, count: d) }
        state.update(repeating: 0, count: layout.style)
        (s + d).update(repeating: 0, count: layout.floats - layout.style - d)
        setStyle(state, style: s)
        let token = state + layout.token
        switch head {
        case .faceformer: token.update(from: s, count: d)
        case .imitator: token.update(repeating: 0, count: d)
        case .mimic(let h):
            if let initialOffsets {
                h.motionIn.apply(initialOffsets, rows: 1, ldx: outputSize, into: token, ldy: d)
            } else {
                token.update(from: h.motionIn.bias!.pointer, count: d)   // W·0 + b
            }
        }
    }

    /// Changes the style; frames decoded after this use it.
    func setStyle(_ state: UnsafeMutablePointer<Float>, style: UnsafePointer<Float>) {
        let s = state + layout.style
        if s != UnsafeMutablePointer(mutating: style) { s.update(from: style, count: d) }
        decoder.normAffine(style: s, into: state + layout.affine)
    }

    /// Decodes motion frame `position` from its `keysPerFrame` audio-feature rows; the decoder
    /// output stays at `hidden(state)`, the offsets go to `offsets` when given. Allocates nothing.
    func decode(_ state: UnsafeMutablePointer<Float>, position t: Int, audio: UnsafePointer<Float>,
                offsets: UnsafeMutablePointer<Float>?, basisDelta: UnsafePointer<Float>? = nil) {
        let kv = state + layout.kv, scratch = state + layout.scratch, token = state + layout.token
        let style = state + layout.style, affine = state + layout.affine, cross = state + layout.cross
        let h = state + layout.hidden, first = state + layout.first
        decoder.crossInputs(audio: audio, keysPerFrame: keysPerFrame, into: cross, scratch: scratch)
        if case .imitator(let im) = head, im.startToken == .style, t == 0 {
            // The initial release decodes a zero token first, then runs every later pass on
            // [s, v₀', …]: frame 0's feature is the decoding of s, frame 1's input is v₀'.
            decoder.step(position: 0, kv: kv, scratch: scratch, token: token, cross: cross, keysPerFrame: keysPerFrame,
                         affine: affine, out: first)
            decoder.step(position: 0, kv: kv, scratch: scratch, token: style, cross: cross, keysPerFrame: keysPerFrame,
                         affine: affine, out: h)
        } else {
            decoder.step(position: t, kv: kv, scratch: scratch, token: token, cross: cross, keysPerFrame: keysPerFrame,
                         affine: affine, out: h)
        }
        if let offsets { output(state, hidden: h, into: offsets, basisDelta: basisDelta) }
        // The next frame's token.
        switch head {
        case .faceformer(let f):
            feedbackToken(h, f.feedback, f.feedbackBias, d: d, into: token)
            Vec.add(token, style, count: d)
        case .imitator(let im):
            token.update(from: (im.startToken == .style && t == 0) ? first : h, count: d)
        case .mimic(let m):
            feedbackToken(h, m.feedback, m.feedbackBias, d: d, into: token)
        }
    }

    /// Imitator's initial release: an utterance of one frame is the zero-token feature v₀' alone.
    /// Call after decoding frame 0 of an utterance known to have one frame; it replaces the
    /// decoder output (and the offsets, when given). Other models: nothing to do.
    func finishSingleFrameUtterance(_ state: UnsafeMutablePointer<Float>, offsets: UnsafeMutablePointer<Float>?,
                                    basisDelta: UnsafePointer<Float>? = nil) {
        guard case .imitator(let im) = head, im.startToken == .style else { return }
        hidden(state).update(from: firstFeature(state), count: d)
        if let offsets { output(state, hidden: hidden(state), into: offsets, basisDelta: basisDelta) }
    }

    func hidden(_ state: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> { state + layout.hidden }
    /// Imitator (start token "style"): the zero-token feature v₀', the whole output of a one-frame utterance.
    func firstFeature(_ state: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> { state + layout.first }

    /// Vertex offsets of one frame from its decoder output. `basisDelta` (Imitator personas):
    /// ΔW [3V, d] then Δb [3V], added to the motion basis.
    func output(_ state: UnsafeMutablePointer<Float>, hidden h: UnsafePointer<Float>, into offsets: UnsafeMutablePointer<Float>,
                basisDelta: UnsafePointer<Float>? = nil) {
        let a = headInput(state, hidden: h)
        applyBasis(a, into: offsets)
        if let basisDelta { addBasisDelta(basisDelta, headInput: a, into: offsets) }
    }

    /// offsets = motionOut(a): the one product of a frame that batches of streams share.
    func applyBasis(_ a: UnsafePointer<Float>, into offsets: UnsafeMutablePointer<Float>) {
        if let wideBasis { wideBasis.apply(a, into: offsets) }
        else { motionOut.apply(a, rows: 1, ldx: d, into: offsets, ldy: outputSize) }
    }

    /// What the motion basis multiplies, d floats: the decoder output itself (FaceFormer, Mimic),
    /// or Imitator's viseme MLP on decoder output + style, left in the state's head region
    /// (valid until the next frame). offsets = motionOut(headInput) (+ a persona's basis change):
    /// the one product a batch of streams shares (`StreamEngine.processBatch`).
    func headInput(_ state: UnsafeMutablePointer<Float>, hidden h: UnsafePointer<Float>) -> UnsafePointer<Float> {
        guard case .imitator(let im) = head else { return h }
        var a = state + layout.head, b = a + d
        a.update(from: h, count: d)
        Vec.add(a, state + layout.style, count: d)
        for layer in im.mlp {
            layer.apply(a, rows: 1, ldx: d, into: b, ldy: d)
            Activations.leakyRelu(b, count: d, slope: im.slope)
            swap(&a, &b)
        }
        return UnsafePointer(a)
    }

    /// The motion basis: offsets = motionOut(headInput).
    var motionOut: Linear { Self.motionOut(of: head) }

    static func motionOut(of head: MimeticModel.Head) -> Linear {
        switch head {
        case .faceformer(let f): return f.motionOut
        case .mimic(let m): return m.motionOut
        case .imitator(let im): return im.motionOut
        }
    }

    /// Adds an Imitator persona's basis change ΔW·a + Δb to a frame's offsets.
    func addBasisDelta(_ delta: UnsafePointer<Float>, headInput a: UnsafePointer<Float>, into offsets: UnsafeMutablePointer<Float>) {
        BLAS.gemmNT(m: 1, n: outputSize, k: d, a: a, lda: d, b: delta, ldb: d, c: offsets, ldc: outputSize, beta: 1)
        Vec.add(offsets, delta + outputSize * d, count: outputSize)
    }
}
