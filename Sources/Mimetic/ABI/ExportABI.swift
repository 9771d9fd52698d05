import CMimeticABI
import MimeticCore

/// `mimetic_export_weights`: a weight track to a glTF or a Live Link Face CSV, through the same
/// writers as `mimetic animate --format glb|gltf|arkit-csv`.
@_cdecl("mimetic_export_weights")
public func mimetic_export_weights(_ model: OpaquePointer?, _ r: OpaquePointer?, _ weights: UnsafePointer<Float>?, _ frames: UInt,
                                   _ format: Int32, _ path: UnsafePointer<CChar>?) -> Int32 {
    let function: StaticString = "mimetic_export_weights"
    guard let model else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "\(function): model is NULL") }
    guard let r else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "\(function): retarget is NULL") }
    guard let path else { return fail(MIMETIC_ERROR_INVALID_ARGUMENT, "\(function): path is NULL") }
    return guarded {
        let m = handle(model).model
        let retarget = retargetHandle(r).retarget
        let n = try CallerSize.count(frames, "num_frames", function: function)
        guard n > 0 else { throw MimeticError.invalidArgument("\(function): num_frames is 0: an animation needs at least one frame") }
        guard let weights else { throw MimeticError.invalidArgument("\(function): weights is NULL") }
        let values = Array(UnsafeBufferPointer(start: weights, count: n * retarget.count))
        let track = try WeightTrack(names: retarget.names, weights: values, fps: m.config.fps)
        let file = String(cString: path)
        switch mimetic_export_format(rawValue: UInt32(bitPattern: format)) {
        case MIMETIC_EXPORT_GLB, MIMETIC_EXPORT_GLTF:
            try GLTFExport(model: m, basis: retarget.basisValues, track: track)
                .write(to: file, binary: format == Int32(MIMETIC_EXPORT_GLB.rawValue), generator: "Mimetic \(MIMETIC_VERSION_STRING)")
        case MIMETIC_EXPORT_ARKIT_CSV:
            try LiveLinkCSVExport.write(track, to: file)
        default:
            throw MimeticError.invalidArgument("\(function): format \(format) is not one of MIMETIC_EXPORT_GLB (0), _GLTF (1), _ARKIT_CSV (2)")
        }
        return MIMETIC_OK
    }
}
