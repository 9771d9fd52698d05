import CKernels

/// A linear layer kept input-major for one to a few rows at a time with a wide output: the motion
/// basis of a stream's frame (3V outputs from d inputs). Its weights are a copy of the layer's
/// packed in panels of 32 outputs, input-major within a panel (`wide_rows.h`), made once at load,
/// so that the per-frame product needs no horizontal sums and reads the weights in order
/// (`wide_rows.c`), and its rows may be anywhere: `apply(rows:)` is a batch of streams' frames,
/// each with the bits it gets alone.
///
/// ```swift
/// let basis = WideLinear(head.motionOut)          // 3V × d, transposed once
/// basis.apply(headInput, into: offsets)           // one frame
/// ```
struct WideLinear {
    let packed: FloatStorage   // panels of 32 outputs, input-major within each (wide_rows.h)
    let bias: Weight?
    let inFeatures: Int
    let outFeatures: Int

    init(_ layer: Linear) {
        self.init(weight: layer.weight.pointer, out: layer.outFeatures, in: layer.inFeatures, bias: layer.bias)
    }

    /// From weights stored [out, in] (row o: output o's inputs in order).
    init(weight w: UnsafePointer<Float>, out outFeatures: Int, in inFeatures: Int, bias: Weight?) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.bias = bias
        packed = FloatStorage(count: inFeatures * outFeatures)
        let out = packed.pointer
        let panel = Int(WIDE_ROWS_PANEL)
        for o in 0..<outFeatures {
            let start = o - o % panel                          // the panel's first output
            let width = min(panel, outFeatures - start)         // the last panel is narrower
            for i in 0..<inFeatures { out[start * inFeatures + i * width + (o - start)] = w[o * inFeatures + i] }
        }
    }

    /// One row: `y` (outFeatures floats) = W x + b.
    func apply(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
        var xs: UnsafePointer<Float>? = x
        var ys: UnsafeMutablePointer<Float>? = y
        wide_rows(1, Int32(outFeatures), Int32(inFeatures), &xs, packed.pointer, bias?.pointer, &ys)
    }

    /// `m` rows, row i from `inputs[i]` to `outputs[i]`.
    func apply(rows m: Int, inputs: UnsafePointer<UnsafePointer<Float>?>, outputs: UnsafePointer<UnsafeMutablePointer<Float>?>) {
        wide_rows(Int32(m), Int32(outFeatures), Int32(inFeatures), inputs, packed.pointer, bias?.pointer, outputs)
    }
}
