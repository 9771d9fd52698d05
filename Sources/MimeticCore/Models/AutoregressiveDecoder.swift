import Foundation

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

    // MARK: Style-dependent norm parameters

    /// γ and β of every norm, [layer][norm] → 2d floats (γ then β). Layer norms take theirs from
    /// the weights; SALN computes them from the style code once per utterance.
    func normAffine(style: [Float]?) -> [[[Float]]] {
        layers.map { layer in
            layer.norms.map { norm in
                switch norm {
                case .layer(let ln): return ln.gamma.toArray() + ln.beta.toArray()
                case .saln(let lin):
                    guard let s = style else { preconditionFailure("SALN decoder needs a style code") }
                    return lin(Matrix(rows: 1, cols: d, data: s)).data
                }
            }
        }
    }

    // MARK: Audio memory

    /// Cross-attention inputs precomputed from the audio features: per layer the value path
    /// W_o(W_v a + b_v) + b_o (exact when a frame attends a single audio frame: softmax of one
    /// key is 1) or the keys and values for the multi-key (BIWI) case.
    struct Memory {
        let keysPerFrame: Int
        var single: [Matrix] = []         // per layer [Ta, d]
        var keys: [Matrix] = []           // per layer [Ta, d]
        var values: [Matrix] = []         // per layer [Ta, d]
        let frames: Int                   // motion frames the memory can drive
    }

    func memory(audio a: Matrix, keysPerFrame k: Int) -> Memory {
        var m = Memory(keysPerFrame: k, frames: a.rows / k)
        for layer in layers {
            let v = layer.crossV(a)
            if k == 1 {
                m.single.append(layer.crossO(v))
            } else {
                m.keys.append(layer.crossK(a))
                m.values.append(v)
            }
        }
        return m
    }

    // MARK: Incremental decoding

    /// Everything one decoding pass mutates: the key/value ring and scratch vectors, one
    /// allocation made up front.
    final class State {
        let d: Int, window: Int, layerCount: Int, ffnDim: Int
        let storage: UnsafeMutablePointer<Float>
        let count: Int
        var position = 0

        init(decoder: AutoregressiveDecoder) {
            d = decoder.d; window = decoder.window; layerCount = decoder.layers.count; ffnDim = decoder.config.ffn_dim
            count = 2 * layerCount * window * d + 8 * d + window + ffnDim
            storage = .allocate(capacity: count)
            storage.initialize(repeating: 0, count: count)
        }
        deinit { storage.deallocate() }

        func keys(_ l: Int) -> UnsafeMutablePointer<Float> { storage + (2 * l) * window * d }
        func values(_ l: Int) -> UnsafeMutablePointer<Float> { storage + (2 * l + 1) * window * d }
        var scratch: UnsafeMutablePointer<Float> { storage + 2 * layerCount * window * d }
        func reset() { position = 0 }
    }

    /// Decodes one token at the state's current position and advances it. `token` is the input
    /// embedding before the positional code; the decoder output (d floats) goes to `out`.
    func step(_ s: State, token: UnsafePointer<Float>, memory m: Memory, frame: Int, affine: [[[Float]]],
              out: UnsafeMutablePointer<Float>) {
        let t = s.position
        let x = s.scratch, q = x + d, kv = q + d, ctx = kv + d, tmp = ctx + d
        let scores = s.scratch + 8 * d, hidden = scores + window
        memcpy(x, token, d * 4)
        let pe = config.positional == .periodic ? (t % config.period) * d : 0
        positional.withUnsafeBufferPointer { Vec.add(x, $0.baseAddress! + pe, count: d) }

        let slot = t % window
        let first = max(0, t - window + 1)   // oldest position still in the window
        let n = t - first + 1
        let scale = 1 / Float(headDim).squareRoot()
        for (l, layer) in layers.enumerated() {
            // Self-attention over the cached window.
            let kc = s.keys(l), vc = s.values(l)
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
                for c in 0..<headDim { ctx[off + c] = 0 }
                for i in 0..<n { Vec.axpy(ctx + off, vc + ((first + i) % window) * d + off, alpha: scores[i], count: headDim) }
            }
            layer.selfO.apply(ctx, rows: 1, ldx: d, into: tmp, ldy: d)
            Vec.add(x, tmp, count: d)
            applyNorm(x, affine[l][0])

            // Cross-attention to the aligned audio frame(s).
            if m.keysPerFrame == 1 {
                m.single[l].data.withUnsafeBufferPointer { Vec.add(x, $0.baseAddress! + frame * d, count: d) }
            } else {
                layer.crossQ.apply(x, rows: 1, ldx: d, into: q, ldy: d)
                let k0 = frame * m.keysPerFrame
                m.keys[l].data.withUnsafeBufferPointer { kp in
                    m.values[l].data.withUnsafeBufferPointer { vp in
                        for h in 0..<heads {
                            let off = h * headDim
                            for i in 0..<m.keysPerFrame {
                                scores[i] = Vec.dot(q + off, kp.baseAddress! + (k0 + i) * d + off, count: headDim) * scale
                            }
                            Norm.softmax(scores, count: m.keysPerFrame)
                            for c in 0..<headDim { ctx[off + c] = 0 }
                            for i in 0..<m.keysPerFrame {
                                Vec.axpy(ctx + off, vp.baseAddress! + (k0 + i) * d + off, alpha: scores[i], count: headDim)
                            }
                        }
                    }
                }
                layer.crossO.apply(ctx, rows: 1, ldx: d, into: tmp, ldy: d)
                Vec.add(x, tmp, count: d)
            }
            applyNorm(x, affine[l][1])

            // Feed-forward.
            layer.ffn.up.apply(x, rows: 1, ldx: d, into: hidden, ldy: config.ffn_dim)
            Activations.relu(hidden, count: config.ffn_dim)
            layer.ffn.down.apply(hidden, rows: 1, ldx: config.ffn_dim, into: tmp, ldy: d)
            Vec.add(x, tmp, count: d)
            applyNorm(x, affine[l][2])
        }
        memcpy(out, x, d * 4)
        s.position += 1
    }

    @inline(__always)
    private func applyNorm(_ x: UnsafeMutablePointer<Float>, _ gb: [Float]) {
        gb.withUnsafeBufferPointer { p in
            Norm.layerNorm(x, rows: 1, cols: d, gamma: p.baseAddress!, beta: p.baseAddress! + d, eps: config.norm_eps)
        }
    }
}
