
/// The one-layer (in the originals; any depth here) post-LN transformer decoder that all three
/// families run autoregressively, computed incrementally.
///
/// The originals re-run the decoder over the whole prefix at every frame (O(T²)). Because
/// self-attention is causal, the attention bias depends only on i − j, the positional code only on
/// the absolute index, and cross-attention is frame-aligned, outputs at earlier positions never
/// change; so one step per frame with a key/value cache computes exactly the same thing.
/// The cache is a ring of `max_seq_len` entries: past that length the originals fail, and Mimetic
/// attends to the last `max_seq_len` frames (docs/model-format.md, "Beyond max_seq_len").
final class AutoregressiveDecoder {
    enum NormLayer {
        case layer(LayerNorm)
        case saln(Linear)   // [γ; β] = W s + b, a style-adaptive layer norm (Mimic)
    }

    struct Layer {
        let selfQ: Linear, selfK: Linear, selfV: Linear, selfO: Linear
        let crossQ: Linear, crossK: Linear, crossV: Linear, crossO: Linear
        let ffn: FeedForward
        let norms: [NormLayer]   // after self-attention, cross-attention, feed-forward
    }

    let config: ModelConfig.Decoder
    let layers: [Layer]
    let d: Int
    let heads: Int
    let headDim: Int
    let window: Int
    /// Per-head slope of the periodic ALiBi bias; zero for a plain causal mask.
    let slopes: [Float]
    /// Positional codes: `period` rows (periodic) or one row added to every token (constant).
    let positional: [Float]

    init(_ store: TensorStore, config c: ModelConfig.Decoder) throws {
        config = c
        d = c.d_model
        heads = c.num_heads
        headDim = c.d_model / c.num_heads
        window = c.max_seq_len
        layers = try (0..<c.num_layers).map { l in
            let p = "decoder.layers.\(l)"
            let norms: [NormLayer] = try (1...3).map { i in
                switch c.norm {
                case .layer: return .layer(try LayerNorm(store, "\(p).norm\(i)", features: c.d_model, eps: c.norm_eps))
                case .saln: return .saln(try Linear(store, "\(p).norm\(i).style", in: c.d_model, out: 2 * c.d_model))
                }
            }
            return Layer(
                selfQ: try Linear(store, "\(p).self_attn.q", in: c.d_model, out: c.d_model),
                selfK: try Linear(store, "\(p).self_attn.k", in: c.d_model, out: c.d_model),
                selfV: try Linear(store, "\(p).self_attn.v", in: c.d_model, out: c.d_model),
                selfO: try Linear(store, "\(p).self_attn.o", in: c.d_model, out: c.d_model),
                crossQ: try Linear(store, "\(p).cross_attn.q", in: c.d_model, out: c.d_model),
                crossK: try Linear(store, "\(p).cross_attn.k", in: c.d_model, out: c.d_model),
                crossV: try Linear(store, "\(p).cross_attn.v", in: c.d_model, out: c.d_model),
                crossO: try Linear(store, "\(p).cross_attn.o", in: c.d_model, out: c.d_model),
                ffn: try FeedForward(store, "\(p).ffn", features: c.d_model, hidden: c.ffn_dim, activation: .relu),
                norms: norms)
        }
        switch c.attention_bias {
        case .alibi: slopes = ALiBi.slopes(heads: c.num_heads)
        case .causal: slopes = [Float](repeating: 0, count: c.num_heads)
        }
        switch c.positional {
        case .periodic: positional = Sinusoid.table(rows: c.period, width: c.d_model)
        case .constant: positional = Sinusoid.table(rows: 1, width: c.d_model)
        }
    }

    // MARK: Sizes of the per-stream memory (floats)

    var kvFloats: Int { 2 * layers.count * window * d }
    var scratchFloats: Int { 8 * d + window + config.ffn_dim }
    var affineFloats: Int { layers.count * 3 * 2 * d }
    /// Cross-attention input of one motion frame: per layer the value-path vector (one audio key)
    /// or k keys then k values.
    func crossFloats(keysPerFrame k: Int) -> Int { layers.count * (k == 1 ? d : 2 * k * d) }

    // MARK: Style-dependent norm parameters

    /// γ then β of every norm, [layer][norm][2d]. Layer norms copy theirs from the weights; SALN
    /// computes them from the style code (once per style, not per frame).
    func normAffine(style: UnsafePointer<Float>?, into out: UnsafeMutablePointer<Float>) {
        for (l, layer) in layers.enumerated() {
            for (i, norm) in layer.norms.enumerated() {
                let dst = out + (l * 3 + i) * 2 * d
                switch norm {
                case .layer(let ln):
                    dst.update(from: ln.gamma.pointer, count: d)
                    (dst + d).update(from: ln.beta.pointer, count: d)
                case .saln(let lin):
                    guard let style else { preconditionFailure("a SALN decoder needs a style code") }
                    lin.apply(style, rows: 1, ldx: d, into: dst, ldy: 2 * d)
                }
            }
        }
    }

    // MARK: Audio memory

    /// The cross-attention input of one motion frame from its k audio-feature rows ([k, d]).
    /// With one key the softmax is exactly 1, so only W_o(W_v a + b_v) + b_o matters.
    func crossInputs(audio a: UnsafePointer<Float>, keysPerFrame k: Int, into out: UnsafeMutablePointer<Float>,
                     scratch: UnsafeMutablePointer<Float>) {
        let stride = k == 1 ? d : 2 * k * d
        for (l, layer) in layers.enumerated() {
            let dst = out + l * stride
            if k == 1 {
                layer.crossV.apply(a, rows: 1, ldx: d, into: scratch, ldy: d)
                layer.crossO.apply(scratch, rows: 1, ldx: d, into: dst, ldy: d)
            } else {
                layer.crossK.apply(a, rows: k, ldx: d, into: dst, ldy: d)
                layer.crossV.apply(a, rows: k, ldx: d, into: dst + k * d, ldy: d)
            }
        }
    }

    // MARK: Incremental decoding

    /// Decodes one token at position `t` (key/value ring `kv`, scratch `scratch`), attending the
    /// frame's cross input `cross`, and writes the decoder output (d floats) to `out`.
    /// `token` is the input embedding before the positional code. Allocates nothing.
    func step(position t: Int, kv: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
              token: UnsafePointer<Float>, cross: UnsafePointer<Float>, keysPerFrame kpf: Int,
              affine: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>) {
        let x = scratch, q = x + d, ctx = q + d, tmp = ctx + d
        let scores = scratch + 8 * d, hidden = scores + window
        x.update(from: token, count: d)
        let pe = config.positional == .periodic ? (t % config.period) * d : 0
        positional.withUnsafeBufferPointer { Vec.add(x, $0.baseAddress! + pe, count: d) }

        let slot = t % window
        let first = max(0, t - window + 1)   // oldest position still in the window
        let n = t - first + 1
        let scale = 1 / Float(headDim).squareRoot()
        let crossStride = kpf == 1 ? d : 2 * kpf * d
        for (l, layer) in layers.enumerated() {
            // Self-attention over the cached window.
            let kc = kv + (2 * l) * window * d, vc = kv + (2 * l + 1) * window * d
            layer.selfK.apply(x, rows: 1, ldx: d, into: kc + slot * d, ldy: d)
            layer.selfV.apply(x, rows: 1, ldx: d, into: vc + slot * d, ldy: d)
            layer.selfQ.apply(x, rows: 1, ldx: d, into: q, ldy: d)
            for h in 0..<heads {
                let off = h * headDim
                for i in 0..<n {
                    let j = first + i
                    var sc = Vec.dot(q + off, kc + (j % window) * d + off, count: headDim) * scale
                    if slopes[h] != 0 { sc -= slopes[h] * Float((t - j) / config.period) }
                    scores[i] = sc
                }
                Norm.softmax(scores, count: n)
                (ctx + off).update(repeating: 0, count: headDim)
                for i in 0..<n { Vec.axpy(ctx + off, vc + ((first + i) % window) * d + off, alpha: scores[i], count: headDim) }
            }
            layer.selfO.apply(ctx, rows: 1, ldx: d, into: tmp, ldy: d)
            Vec.add(x, tmp, count: d)
            applyNorm(x, affine + (l * 3) * 2 * d)

            // Cross-attention to the aligned audio frame(s).
            let c = cross + l * crossStride
            if kpf == 1 {
                Vec.add(x, c, count: d)
            } else {
                layer.crossQ.apply(x, rows: 1, ldx: d, into: q, ldy: d)
                let keys = c, values = c + kpf * d
                for h in 0..<heads {
                    let off = h * headDim
                    for i in 0..<kpf { scores[i] = Vec.dot(q + off, keys + i * d + off, count: headDim) * scale }
                    Norm.softmax(scores, count: kpf)
                    (ctx + off).update(repeating: 0, count: headDim)
                    for i in 0..<kpf { Vec.axpy(ctx + off, values + i * d + off, alpha: scores[i], count: headDim) }
                }
                layer.crossO.apply(ctx, rows: 1, ldx: d, into: tmp, ldy: d)
                Vec.add(x, tmp, count: d)
            }
            applyNorm(x, affine + (l * 3 + 1) * 2 * d)

            // Feed-forward.
            layer.ffn.up.apply(x, rows: 1, ldx: d, into: hidden, ldy: config.ffn_dim)
            Activations.relu(hidden, count: config.ffn_dim)
            layer.ffn.down.apply(hidden, rows: 1, ldx: config.ffn_dim, into: tmp, ldy: d)
            Vec.add(x, tmp, count: d)
            applyNorm(x, affine + (l * 3 + 2) * 2 * d)
        }
        out.update(from: x, count: d)
    }

    @inline(__always)
    private func applyNorm(_ x: UnsafeMutablePointer<Float>, _ gb: UnsafePointer<Float>) {
        Norm.layerNorm(x, rows: 1, cols: d, gamma: gb, beta: gb + d, eps: config.norm_eps)
    }
}
