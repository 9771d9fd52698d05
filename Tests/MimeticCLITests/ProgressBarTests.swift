import XCTest
@testable import mimetic_cli

final class ProgressBarTests: XCTestCase {
    func testRendering() {
        XCTAssertEqual(
            ProgressBar.render(label: "Animating", done: 55, total: 100, elapsedSeconds: 5.5, width: 20),
            "Animating [###########.........]  55%  55/100  0:05 left")
        XCTAssertEqual(
            ProgressBar.render(label: "", done: 0, total: 10, elapsedSeconds: 0, width: 4),
            "[....]   0%  0/10  --:-- left")
        XCTAssertEqual(
            ProgressBar.render(label: "x", done: 10, total: 10, elapsedSeconds: 3725, width: 4),
            "x [####] 100%  10/10  1:02:05 total")
    }

    func testDrawsInPlaceAndEndsTheLineOnFinish() {
        var written = ""
        let bar = ProgressBar(label: "Job", enabled: true, width: 4) { written += $0 }
        bar.update(done: 1, total: 2)
        bar.update(done: 2, total: 2)  // completion always draws
        bar.finish()
        bar.finish()
        XCTAssertEqual(written.filter { $0 == "\r" }.count, 3)
        XCTAssertTrue(written.hasSuffix("100%  2/2  0:00 total\n"), written)
    }

    func testDisabledBarIsSilent() {
        var written = ""
        let bar = ProgressBar(label: "Job", enabled: false, width: 4) { written += $0 }
        bar.update(done: 1, total: 2)
        bar.finish()
        XCTAssertEqual(written, "")
    }
}
