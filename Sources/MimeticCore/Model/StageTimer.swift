
/// Wall-clock time per named stage (benchmarks, `mimetic bench`).
public final class StageTimer {
    public private(set) var seconds: [String: Double] = [:]
    public init() {}
    func start() -> UInt64 { MonotonicClock.nanoseconds() }
    func lap(_ name: String, _ clock: inout UInt64?) {
        guard let c = clock else { return }
        let now = MonotonicClock.nanoseconds()
        seconds[name, default: 0] += Double(now - c) / 1e9
        clock = now
    }
}
