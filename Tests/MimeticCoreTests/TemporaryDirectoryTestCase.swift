import Foundation
import XCTest

/// A test case with a fresh scratch directory per test, removed afterwards.
class TemporaryDirectoryTestCase: XCTestCase {
    private(set) var temporaryDirectory = ""

    override func setUpWithError() throws {
        try super.setUpWithError()
        temporaryDirectory = NSTemporaryDirectory() + "/mimetic-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: temporaryDirectory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: temporaryDirectory)
        try super.tearDownWithError()
    }

    func temporaryPath(_ name: String) -> String {
        temporaryDirectory + "/" + name
    }
}
