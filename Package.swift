// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Mimetic",
    products: [
        // libMimetic.so: the C ABI declared in include/mimetic.h.
        .library(name: "Mimetic", type: .dynamic, targets: ["Mimetic"]),
        .executable(name: "mimetic", targets: ["mimetic-cli"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS",
            path: "Sources/CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .target(
            name: "MimeticCore",
            dependencies: ["CBLAS"]
        ),
        // include/mimetic.h as a Swift module (see its module map).
        .systemLibrary(name: "CMimeticABI", path: "Sources/CMimeticABI"),
        .target(
            name: "Mimetic",
            dependencies: ["MimeticCore", "CMimeticABI"]
        ),
        .executableTarget(
            name: "mimetic-cli",
            dependencies: [
                "MimeticCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "MimeticCoreTests",
            dependencies: ["MimeticCore"]
        ),
        .testTarget(
            name: "MimeticCLITests",
            dependencies: ["mimetic-cli"]
        ),
    ],
    swiftLanguageModes: [.v5]
)
