#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A one-line progress bar for long jobs, redrawn in place on stderr:
///
///     Animating [###########.........]  55%  550/1000  0:04 left
///
/// Silent unless stderr is a terminal (or `force` is set), so logs and
/// pipes don't fill with carriage returns. Redraws at most ten times a
/// second, so it can be updated from a tight loop (from one thread at a time).
public final class ProgressBar {
    public let label: String
    /// False when output is suppressed (stderr is not a terminal).
    public let isEnabled: Bool
    private let width: Int
    private let write: (String) -> Void
    private let started = monotonicSeconds()
    private var lastDraw: Double?
    private var lastLineLength = 0
    private var last: (done: Int, total: Int)?
    private var finished = false

    public convenience init(label: String = "", force: Bool = false, width: Int = 30) {
        self.init(label: label, enabled: force || isatty(STDERR_FILENO) != 0, width: width) { text in
            fputs(text, stderr)
            fflush(stderr)
        }
    }

    /// `write` receives the raw text, carriage returns included (for tests).
    init(label: String, enabled: Bool, width: Int, write: @escaping (String) -> Void) {
        self.label = label
        self.isEnabled = enabled
        self.width = max(1, width)
        self.write = write
    }

    public func update(done: Int, total: Int) {
        guard isEnabled && !finished else { return }
        last = (done, total)
        let now = monotonicSeconds()
        if let lastDraw, now - lastDraw < 0.1 && done < total { return }
        lastDraw = now
        draw(done: done, total: total, now: now)
    }

    /// Draws the final state and ends the line. Safe to call more than once.
    public func finish() {
        guard isEnabled && !finished else { return }
        finished = true
        guard let last else { return }
        draw(done: last.done, total: last.total, now: monotonicSeconds())
        write("\n")
    }

    private func draw(done: Int, total: Int, now: Double) {
        let line = Self.render(label: label, done: done, total: total, elapsedSeconds: now - started, width: width)
        // Blank out the tail of a longer previous line.
        let padding = String(repeating: " ", count: max(0, lastLineLength - line.count))
        lastLineLength = line.count
        write("\r" + line + padding)
    }

    static func render(label: String, done: Int, total: Int, elapsedSeconds: Double, width: Int) -> String {
        let fraction = total > 0 ? min(1, max(0, Double(done) / Double(total))) : 0
        let filled = Int((fraction * Double(width)).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let percent = Int((fraction * 100).rounded(.down))
        let percentText = String(repeating: " ", count: 3 - String(percent).count) + "\(percent)%"
        var remaining = "--:-- left"
        if done >= total && total > 0 {
            remaining = formatDuration(elapsedSeconds) + " total"
        } else if done > 0 {
            remaining = formatDuration(elapsedSeconds / Double(done) * Double(total - done)) + " left"
        }
        let prefix = label.isEmpty ? "" : label + " "
        return "\(prefix)[\(bar)] \(percentText)  \(done)/\(total)  \(remaining)"
    }

    /// m:ss, or h:mm:ss from an hour up.
    static func formatDuration(_ seconds: Double) -> String {
        let whole = Int(seconds.isFinite ? max(0, seconds.rounded()) : 0)
        let (hours, minutes, secs) = (whole / 3600, whole / 60 % 60, whole % 60)
        let twoDigits = { (value: Int) in value < 10 ? "0\(value)" : "\(value)" }
        return hours > 0 ? "\(hours):\(twoDigits(minutes)):\(twoDigits(secs))" : "\(minutes):\(twoDigits(secs))"
    }
}

/// Seconds on a clock that never jumps (unlike wall-clock time).
private func monotonicSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}
