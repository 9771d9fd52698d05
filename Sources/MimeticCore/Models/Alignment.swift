/// How audio frames (50 Hz) meet motion frames (fps): the frame-count arithmetic and the
/// linear interpolation the originals use.
enum Alignment {
    /// Motion frames for `L` CNN frames, computed as the originals do in Python floats:
    /// `int((L / 50.0) * fps) + offset` (FaceFormer/Imitator: offset 0; Mimic: `int(L/50*25)+1`).
    /// Doing this in integers would differ for some L (L = 205 gives 122 here, not 123).
    static func interpolatedFrames(cnnFrames l: Int, fps: Int, offset: Int) -> Int {
        Int((Double(l) / 50.0) * Double(fps)) + offset
    }

    /// `F.interpolate(mode: 'linear', align_corners: True)` along time: output t samples input
    /// position t·(L−1)/(T−1).
    static func interpolateLinear(_ x: Matrix, to frames: Int) -> Matrix {
        let l = x.rows, c = x.cols
        var y = Matrix(zeros: frames, c)
        guard frames > 0, l > 0 else { return y }
        // torch computes the scale in float for float tensors; matching that keeps the sample
        // positions identical to the reference, not merely close.
        let scale: Float = frames > 1 ? Float(l - 1) / Float(frames - 1) : 0
        x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
                for t in 0..<frames {
                    let pos = scale * Float(t)
                    let i0 = min(Int(pos), l - 1)
                    let i1 = min(i0 + 1, l - 1)
                    let a = pos - Float(i0)
                    let out = yp.baseAddress! + t * c
                    let r0 = xp.baseAddress! + i0 * c, r1 = xp.baseAddress! + i1 * c
                    for j in 0..<c { out[j] = (1 - a) * r0[j] + a * r1[j] }
                }
            }
        }
        return y
    }
}
