// swift-tools-version:6.0
// DoorstepKit: the iPhone app's logic over the Rust core (libdoorstep_ffi), built from the
// uniffi bindings that scripts/bindings.sh generates into Generated/ (not committed).
//
// On Apple platforms the Rust library comes as DoorstepRust.xcframework (static libraries for
// the device and the simulator, with both C modules' headers; see ../README.md). On Linux,
// where `swift test` runs (scripts/swift-test.sh), the C modules are the generated module maps
// and the shared library is linked from the cargo target folder.
import PackageDescription

#if os(Linux)
let ffi: [Target] = [
    .systemLibrary(name: "DoorstepCoreFFI", path: "Generated/DoorstepCoreFFI"),
    .systemLibrary(name: "DoorstepFFI", path: "Generated/DoorstepFFI"),
]
let rustFFI: [Target.Dependency] = ["DoorstepCoreFFI", "DoorstepFFI"]
let linkRust: [LinkerSetting] = [.linkedLibrary("doorstep_ffi")]
#else
let ffi: [Target] = [.binaryTarget(name: "DoorstepRust", path: "DoorstepRust.xcframework")]
let rustFFI: [Target.Dependency] = ["DoorstepRust"]
// The TLS certificate checks (rustls-platform-verifier) call Apple's Security framework.
let linkRust: [LinkerSetting] = [.linkedFramework("Security")]
#endif

let package = Package(
    name: "DoorstepKit",
    platforms: [.iOS(.v17), .macOS(.v14)],
    products: [.library(name: "DoorstepKit", targets: ["DoorstepKit"])],
    targets: ffi + [
        // The generated bindings, in one module as uniffi expects of several crates' bindings:
        // DoorstepCore.swift (the core's records, enums and errors) and Doorstep.swift (the
        // store object and sync).
        .target(name: "Doorstep", dependencies: rustFFI, path: "Generated/Doorstep",
                swiftSettings: [.swiftLanguageMode(.v5)], linkerSettings: linkRust),
        .target(name: "DoorstepKit", dependencies: ["Doorstep"]),
        // Swift 5 mode: XCTest's test discovery on Linux calls the tests from nonisolated code.
        .testTarget(name: "DoorstepKitTests", dependencies: ["DoorstepKit"],
                    swiftSettings: [.swiftLanguageMode(.v5)]),
    ]
)
