/// The CSV layout Live Link Face records and Unreal / MetaHuman workflows import: `Timecode`,
/// `BlendShapeCount`, the 52 ARKit blendshapes (first letter capitalised, Live Link Face's order),
/// then head and eye rotations; one row per frame. Mimetic drives no head or eyes: those columns
/// are 0. `LiveLinkTake` reads this layout back.
public enum LiveLinkCSVExport {
    public static let headAndEyes = ["HeadYaw", "HeadPitch", "HeadRoll", "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
                                     "RightEyeYaw", "RightEyePitch", "RightEyeRoll"]

    /// Apple's ARKit names in Live Link Face's column order.
    public static let arkit = ["eyeBlinkLeft", "eyeLookDownLeft", "eyeLookInLeft", "eyeLookOutLeft", "eyeLookUpLeft", "eyeSquintLeft",
                               "eyeWideLeft", "eyeBlinkRight", "eyeLookDownRight", "eyeLookInRight", "eyeLookOutRight", "eyeLookUpRight",
                               "eyeSquintRight", "eyeWideRight", "jawForward", "jawRight", "jawLeft", "jawOpen", "mouthClose", "mouthFunnel",
                               "mouthPucker", "mouthRight", "mouthLeft", "mouthSmileLeft", "mouthSmileRight", "mouthFrownLeft", "mouthFrownRight",
                               "mouthDimpleLeft", "mouthDimpleRight", "mouthStretchLeft", "mouthStretchRight", "mouthRollLower", "mouthRollUpper",
                               "mouthShrugLower", "mouthShrugUpper", "mouthPressLeft", "mouthPressRight", "mouthLowerDownLeft", "mouthLowerDownRight",
                               "mouthUpperUpLeft", "mouthUpperUpRight", "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft",
                               "browOuterUpRight", "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "noseSneerLeft", "noseSneerRight", "tongueOut"]

    /// Timecode of frame `t` at `fps`: HH:MM:SS:FF.mmm (frames within the second, then milliseconds
    /// of the frame, as Live Link Face writes it).
    public static func timecode(frame t: Int, fps: Int) -> String {
        let seconds = t / fps, f = t % fps
        return formatted("%02d:%02d:%02d:%02d.000", seconds / 3600, (seconds / 60) % 60, seconds % 60, f)
    }

    /// The CSV text of a track whose names include the 52 ARKit blendshapes (others are left out).
    public static func encoded(_ track: WeightTrack) throws -> String {
        var index: [Int] = []
        for name in arkit {
            guard let i = track.names.firstIndex(of: name) else {
                throw MimeticError.invalidArgument("the ARKit CSV needs the 52 ARKit blendshapes; the basis has no '\(name)' (use models/arkit52.safetensors or a basis with those names)")
            }
            index.append(i)
        }
        let header = ["Timecode", "BlendShapeCount"] + arkit.map { $0.prefix(1).uppercased() + $0.dropFirst() } + headAndEyes
        var text = header.joined(separator: ",") + "\n"
        let k = track.names.count
        let zeros = headAndEyes.map { _ in "0" }
        for t in 0..<track.frames {
            var row = [timecode(frame: t, fps: track.fps), String(arkit.count + headAndEyes.count)]
            for i in index { row.append(formatted("%.6f", Double(track.weights[t * k + i]))) }
            row += zeros
            text += row.joined(separator: ",") + "\n"
        }
        return text
    }

    public static func write(_ track: WeightTrack, to path: String) throws {
        let text = try encoded(track)
        do {
            try writeFileBytesAtomically(Array(text.utf8), toPath: path)
        } catch let failure as FileAccessFailure {
            throw MimeticError.io("cannot write '\(path)': \(failure.reason)")
        }
    }
}
