import XCTest
@testable import mimetic_cli

/// `mimetic animate` writes what its --out says, or refuses: never NPY bytes under a .txt name.
final class AnimateOutputFormatTests: XCTestCase {
    func testFormatFollowsTheOutputPath() throws {
        XCTAssertEqual(try Animate.outputFormat(out: "out/hello.npy", format: nil), .npy)
        XCTAssertEqual(try Animate.outputFormat(out: "out/HELLO.NPY", format: .npy), .npy)
        XCTAssertEqual(try Animate.outputFormat(out: "out/frames", format: nil), .obj)
        XCTAssertEqual(try Animate.outputFormat(out: "run.1/frames", format: .obj), .obj)
        XCTAssertEqual(try Animate.outputFormat(out: "face.glb", format: nil), .glb)
        XCTAssertEqual(try Animate.outputFormat(out: "face.gltf", format: nil), .gltf)
        XCTAssertEqual(try Animate.outputFormat(out: "take.csv", format: nil), .arkitCSV)
    }

    func testAnExtensionItWillNotWriteIsRefusedWithTheChoices() {
        for (out, format, fragment) in [("x.txt", nil, "the formats are npy"), ("x.fbx", nil, "FBX is not written"),
                                         ("x.glb", Animate.Format.gltf, "ending in .gltf"),
                                         ("x.txt", Animate.Format.npy, "ending in .npy"),
                                         ("frames.obj", Animate.Format.obj, "directory"),
                                         ("frames", Animate.Format.npy, "ending in .npy"),
                                         ("x.npy", Animate.Format.obj, "directory")] {
            XCTAssertThrowsError(try Animate.outputFormat(out: out, format: format), out) {
                XCTAssertTrue("\($0)".contains(fragment), "\(out): \($0)")
            }
        }
    }
}
