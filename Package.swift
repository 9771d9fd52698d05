// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Mimetic",
    products: [
        // libMimetic.so: the C ABI declared in include/mimetic.h.
        .library(name: "Mimetic", type: .dynamic, targets: ["Mimetic"]),
        .executable(name: "mimetic", targets: ["mimetic-cli"]),
        // Fuzz entry points over the core (`make fuzz` only; see Tests/Fuzz).
        .library(name: "MimeticFuzzTargets", type: .dynamic, targets: ["MimeticFuzzTargets"]),
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
        // The per-frame products of streams (see Sources/CKernels/small_gemm.c).
        .target(name: "CKernels", path: "Sources/CKernels"),
        .target(
            name: "MimeticCore",
            dependencies: ["CBLAS", "CKernels"]
        ),
        // include/mimetic.h as a Swift module (see its module map).
        .systemLibrary(name: "CMimeticABI", path: "Sources/CMimeticABI"),
        .target(
            name: "Mimetic",
            dependencies: ["MimeticCore", "CMimeticABI"]
        ),
        .target(
            name: "MimeticFuzzTargets",
            dependencies: ["MimeticCore"]
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
