extension MimeticModel {
    /// Identifies the weights a persona was adapted on: FNV-1a (64-bit) over the config and the
    /// bytes of the style table and the motion basis (enough to catch a persona loaded into the
    /// wrong model; not a cryptographic digest). Computed once at load: `fingerprint`.
    static func fingerprint(of store: TensorStore) -> String {
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
