extension MimeticModel {
    /// The decoder's output per frame (Imitator: the viseme features that feed its motion decoder)
    /// for given audio features and style, [T, d].
    func decodeHidden(_ audioFeatures: AudioFeatures, styleVector s: [Float]) throws -> Matrix {
        let d = config.decoder.d_model, k = audioFeatures.keysPerFrame
        let state = FloatStorage(count: frameDecoder.layout.floats)
        var hidden = Matrix(zeros: audioFeatures.frames, d)
        s.withUnsafeBufferPointer { frameDecoder.begin(state.pointer, style: $0.baseAddress!, initialOffsets: nil) }
        audioFeatures.features.data.withUnsafeBufferPointer { ap in
            hidden.data.withUnsafeMutableBufferPointer { hp in
                for t in 0..<audioFeatures.frames {
                    frameDecoder.decode(state.pointer, position: t, audio: ap.baseAddress! + t * k * d, offsets: nil)
                    (hp.baseAddress! + t * d).update(from: frameDecoder.hidden(state.pointer), count: d)
                }
                if case .imitator(let im) = head, im.startToken == .style, audioFeatures.frames == 1 {
                    hp.baseAddress!.update(from: frameDecoder.firstFeature(state.pointer), count: d)
                }
            }
        }
        return hidden
    }

    /// Identifies the weights a persona was adapted on: FNV-1a (64-bit) over the config and the
    /// bytes of the style table and the motion basis (cheap, and enough to catch a persona loaded
    /// into the wrong model; not a cryptographic digest).
    public var fingerprint: String {
        var h: UInt64 = 0xcbf29ce484222325
        func mix(_ bytes: UnsafeRawBufferPointer) { for b in bytes { h = (h ^ UInt64(b)) &* 0x100000001b3 } }
        Array((store.metadata["mimetic.config"] ?? "").utf8).withUnsafeBytes(mix)
        for name in ["style.weight", "motion_out.weight", "motion_out.bias"] {
            guard let shape = store.shape(of: name), let w = try? store.weight(name, shape: shape) else { continue }
            mix(UnsafeRawBufferPointer(start: w.pointer, count: w.count * 4))
        }
        return "fnv1a64:" + String(h, radix: 16)
    }
}
