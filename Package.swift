// swift-tools-version:6.0
import PackageDescription
import Foundation

// Native code generation (AVX2 + FMA on x86-64) matters 3x for the SIMD kernels, but
// SwiftPM refuses `unsafeFlags` in a package that is used as a dependency. So the flag
// is added only when Loom is built as the root package (its own checkout), never when
// it sits in another package's checkouts folder. `LOOM_NATIVE=0` turns it off,
// `LOOM_NATIVE=1` forces it on. Docs/Performance.md explains how a downstream user
// gets the native build (`-Xswiftc -target-cpu -Xswiftc native`).
let packagePath = Context.packageDirectory
let isDependencyCheckout = packagePath.contains("/checkouts/") || packagePath.contains("/SourcePackages/")
let nativeSetting = Context.environment["LOOM_NATIVE"]
let buildNative = nativeSetting.map { $0 != "0" } ?? !isDependencyCheckout

var optimizationSettings: [SwiftSetting] = []
#if arch(x86_64)
if buildNative {
    optimizationSettings.append(.unsafeFlags(["-target-cpu", "native"]))
    // Lets the run-time dispatch pick the widest path the CPU has: without native code
    // generation every path compiles to baseline SSE2, where the 8-lane tiles fit best.
    optimizationSettings.append(.define("LOOM_NATIVE_BUILD"))
}
#endif
// Loom's kernels are generic over the scalar type; a client module (the `loom` tool, a
// user's model) calling `Adam<Float>` or `LSTM<Float>` only runs fast if it can specialize
// them, which needs their bodies: cross-module optimization exports them in release builds.
if buildNative {
    optimizationSettings.append(.unsafeFlags(["-cross-module-optimization"], .when(configuration: .release)))
}

// The debug configuration (`swift build`, `swift test`) still optimizes the library and the
// tool, whole-module: the generic kernels are fast only once specialized, and unoptimized
// every SIMD operation goes through the standard library's generic code one lane at a time
// (a small training run took 20 s instead of 0.04 s, the test suite 11 minutes instead of 2).
// `-num-threads` makes the whole-module build emit one object file per source file, as the
// debug build's index store expects. The tests stay unoptimized. `LOOM_DEBUG_OPTIMIZE=0`
// builds the library unoptimized, for a debugger.
let debugOptimizes = (Context.environment["LOOM_DEBUG_OPTIMIZE"].map { $0 != "0" } ?? true) && !isDependencyCheckout
let librarySettings = optimizationSettings
    + (debugOptimizes ? [.unsafeFlags(["-O", "-wmo", "-num-threads", "2"], .when(configuration: .debug))] : [])

let package = Package(
    name: "Loom",
    // The tape uses the Synchronization module (Atomic, Mutex), which needs these releases.
    platforms: [.macOS(.v15), .iOS(.v18), .tvOS(.v18), .watchOS(.v11), .visionOS(.v2)],
    products: [
        .library(name: "Loom", targets: ["Loom"]),
        .executable(name: "loom", targets: ["loom"]),
        .executable(name: "loom-bench", targets: ["loom-bench"]),
    ],
    targets: [
        .target(
            name: "Loom",
            swiftSettings: librarySettings
        ),
        .executableTarget(
            name: "loom",
            dependencies: ["Loom"],
            swiftSettings: librarySettings
        ),
        .executableTarget(
            name: "loom-bench",
            dependencies: ["Loom"],
            path: "Benchmarks/loom-bench",
            swiftSettings: optimizationSettings
        ),
        .testTarget(
            name: "LoomTests",
            dependencies: ["Loom"],
            resources: [.copy("Resources/fixtures")],
            swiftSettings: optimizationSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
