/// Collects intermediate tensors by stage name (parity tests, `mimetic stages`).
public final class StageRecorder {
    public private(set) var stages: [String: Matrix] = [:]
    public init() {}
    func record(_ name: String, _ m: @autoclosure () -> Matrix) { stages[name] = m() }
}
