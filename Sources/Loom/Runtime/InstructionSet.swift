import Foundation
#if canImport(Darwin)
import Darwin
#endif

/// The SIMD code path Loom's kernels run: the vector width and register tiles they use.
///
/// Every path is the same width-generic Swift source instantiated at a different width, and
/// every path gives bitwise the same results (sums run in a fixed order whatever the width;
/// see Docs/Performance.md), so the choice affects speed only. The path in effect is the
/// innermost `with(_:_:)` scope's, or else ``default``: the `LOOM_ISA` environment variable
/// (`avx512`, `avx2`, `neon` or `generic`) when it names an available path, otherwise the
/// widest path the CPU supports.
public enum InstructionSet: String, CaseIterable, Sendable, CustomStringConvertible {
    /// 512-bit vectors: 16 `Float` / 8 `Double` lanes, tiles sized for 32 vector registers.
    case avx512
    /// 256-bit vectors with FMA: 8 `Float` / 4 `Double` lanes, tiles for 16 registers.
    case avx2
    /// 128-bit arm64 vectors: 4 `Float` / 2 `Double` lanes, tiles for 32 registers.
    case neon
    /// The portable path: 4 `Float` / 2 `Double` lanes, small tiles, any CPU.
    case generic

    /// The path's name, as `LOOM_ISA` and `loom-bench` spell it.
    public var description: String { rawValue }

    /// The path in effect for kernels called from here.
    public static var current: InstructionSet { scoped ?? `default` }

    /// The process-wide path: `LOOM_ISA` when it names an available path, else the widest
    /// path the CPU supports (see ``detected``).
    public static let `default`: InstructionSet = {
        guard let requested = ProcessInfo.processInfo.environment["LOOM_ISA"], !requested.isEmpty else { return detected }
        guard let choice = InstructionSet(rawValue: requested.lowercased()), available.contains(choice) else {
            let names = available.map(\.rawValue).joined(separator: ", ")
            FileHandle.standardError.write(Data("loom: LOOM_ISA=\(requested) is not a path this build can run (available: \(names)); using \(detected)\n".utf8))
            return detected
        }
        return choice
    }()

    /// The paths this build can run on this machine, widest first; `generic` is always one.
    ///
    /// On x86-64, `avx512` and `avx2` are always runnable: they are plain Swift SIMD code that
    /// the compiler lowers to whatever the build targets (on a CPU without AVX-512 a 16-lane
    /// vector becomes two 256-bit halves), so they can be forced for testing. `neon` exists on
    /// arm64 only.
    public static let available: [InstructionSet] = {
        #if arch(x86_64)
        return [.avx512, .avx2, .generic]
        #elseif arch(arm64)
        return [.neon, .generic]
        #else
        return [.generic]
        #endif
    }()

    /// The widest path the CPU has native vectors for, among the paths the build can use.
    ///
    /// A build without native code generation (Loom as a dependency built without
    /// `-target-cpu native`) compiles every path to baseline SSE2; there the `avx2` path is
    /// chosen, whose tiles fit that register file best.
    public static let detected: InstructionSet = {
        #if arch(x86_64)
        #if LOOM_NATIVE_BUILD
        let features = CPUFeatures.current
        if features.hasAVX512 { return .avx512 }
        #endif
        return .avx2
        #elseif arch(arm64)
        return .neon
        #else
        return .generic
        #endif
    }()

    /// Runs `body` with kernels called inside it (on this thread and on the worker threads
    /// those kernels start) using `path`, and returns its result.
    public static func with<R>(_ path: InstructionSet, _ body: () throws -> R) rethrows -> R {
        try $scoped.withValue(path, operation: body)
    }

    /// Runs the asynchronous `body` with kernels called inside it using `path`.
    public static func with<R>(_ path: InstructionSet, _ body: () async throws -> R) async rethrows -> R {
        try await $scoped.withValue(path, operation: body)
    }

    /// The path of the innermost `with` scope, if any.
    @TaskLocal static var scoped: InstructionSet?
}

/// The vector features of the CPU, read once from the operating system.
struct CPUFeatures {
    /// AVX-512 Foundation with the VL, BW and DQ extensions (Skylake-SP and later, Zen 4 and later).
    var hasAVX512 = false
    /// AVX2 with FMA3.
    var hasAVX2 = false
    /// SSE3: an x86-64 CPU with it can treat subnormal inputs as zero (MXCSR's DAZ bit), which
    /// `Denormals` checks before it flushes.
    var hasSSE3 = false

    static let current = CPUFeatures.read()

    static func read() -> CPUFeatures {
        var features = CPUFeatures()
        #if os(Linux)
        if let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) {
            let flags = Set(line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == ":" }).map(String.init))
            features.hasSSE3 = flags.contains("pni")
            features.hasAVX2 = flags.contains("avx2") && flags.contains("fma")
            features.hasAVX512 = features.hasAVX2 && ["avx512f", "avx512vl", "avx512bw", "avx512dq"].allSatisfy(flags.contains)
        }
        #elseif canImport(Darwin) && arch(x86_64)
        func flag(_ name: String) -> Bool {
            var value: Int32 = 0, size = MemoryLayout<Int32>.size
            return sysctlbyname(name, &value, &size, nil, 0) == 0 && value != 0
        }
        features.hasSSE3 = flag("hw.optional.sse3")
        features.hasAVX2 = flag("hw.optional.avx2_0") && flag("hw.optional.fma")
        features.hasAVX512 = features.hasAVX2 && flag("hw.optional.avx512f") && flag("hw.optional.avx512vl")
            && flag("hw.optional.avx512bw") && flag("hw.optional.avx512dq")
        #endif
        return features
    }
}
