#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Subnormal ("denormal") numbers, and flushing them to zero: PyTorch's
/// `torch.set_flush_denormal`.
///
/// Numbers below the smallest normal magnitude (`Float.leastNormalMagnitude`, about 1.2e-38)
/// are computed exactly by default, as IEEE 754 and PyTorch do. Many CPUs, Intel's among them,
/// compute them in microcode, tens of times slower than ordinary arithmetic, and training
/// produces them wherever a gradient vanishes: backpropagation through a few hundred steps of
/// an LSTM whose loss reads only the final state (a sentiment classifier on long reviews) fills
/// the gate gradients with them, and every product that reads those runs at a fraction of its
/// speed. With flushing on, the CPU treats subnormal inputs as zero and rounds subnormal
/// results to zero (x86-64: MXCSR's DAZ and FTZ bits; arm64: FPCR's FZ bit), for `Float` and
/// `Double` alike. Results then differ from the exact ones only where a subnormal number
/// arose (and became zero).
///
/// The mode belongs to a thread, as in PyTorch: it applies to arithmetic on the thread that set
/// it, and Loom's worker threads take the mode of the thread whose kernel they help, so a
/// result is the same for any thread count. The paths (`InstructionSet`) all flush alike,
/// so results stay bitwise the same across them in either mode.
///
/// ```swift
/// setFlushDenormal(true)                      // this thread, from now on
/// Denormals.withFlushToZero(true) { try trainEpoch() }   // only inside the closure
/// ```
public enum Denormals {
    /// Whether this CPU can flush subnormal numbers to zero: x86-64 with SSE3, and arm64.
    public static let canFlushToZero: Bool = {
        #if arch(x86_64)
        return CPUFeatures.current.hasSSE3
        #elseif arch(arm64)
        return true
        #else
        return false
        #endif
    }()

    /// Whether arithmetic on the calling thread flushes subnormal numbers to zero.
    public static var flushToZero: Bool { threadFlushesToZero() }

    /// Runs `body` with subnormal numbers flushed to zero (or not) on the calling thread, and
    /// restores the thread's previous mode afterwards. Where the CPU cannot flush
    /// (`canFlushToZero` is false), runs `body` unchanged.
    public static func withFlushToZero<R>(_ flush: Bool, _ body: () throws -> R) rethrows -> R {
        let previous = threadFlushesToZero()
        setThreadFlushesToZero(flush)
        defer { setThreadFlushesToZero(previous) }
        return try body()
    }

    /// Sets the calling thread's mode; returns false, changing nothing, where the CPU cannot
    /// flush.
    @discardableResult
    static func setThreadFlushesToZero(_ flush: Bool) -> Bool {
        guard canFlushToZero else { return false }
        #if (canImport(Glibc) || canImport(Darwin)) && (arch(x86_64) || arch(arm64))
        var environment = fenv_t()
        fegetenv(&environment)
        let control = environment.flushControl
        let updated = flush ? control | fenv_t.flushBits : control & ~fenv_t.flushBits
        if updated != control {
            environment.flushControl = updated
            fesetenv(&environment)
        }
        return true
        #else
        return false
        #endif
    }

    /// The calling thread's mode, read from its floating-point control register.
    static func threadFlushesToZero() -> Bool {
        guard canFlushToZero else { return false }
        #if (canImport(Glibc) || canImport(Darwin)) && (arch(x86_64) || arch(arm64))
        var environment = fenv_t()
        fegetenv(&environment)
        return environment.flushControl & fenv_t.flushBits == fenv_t.flushBits
        #else
        return false
        #endif
    }
}

#if (canImport(Glibc) || canImport(Darwin)) && arch(x86_64)
extension fenv_t {
    /// MXCSR, the SSE/AVX control and status register.
    fileprivate var flushControl: UInt32 {
        get { __mxcsr }
        set { __mxcsr = newValue }
    }
    /// MXCSR's flush-to-zero (bit 15) and denormals-are-zero (bit 6) bits.
    fileprivate static let flushBits: UInt32 = 0x8040
}
#elseif (canImport(Glibc) || canImport(Darwin)) && arch(arm64)
extension fenv_t {
    /// FPCR, the floating-point control register (64 bits in Darwin's `fenv_t`, 32 in glibc's).
    fileprivate var flushControl: UInt64 {
        get { UInt64(__fpcr) }
        set { __fpcr = .init(newValue) }
    }
    /// FPCR's flush-to-zero bit (24).
    fileprivate static let flushBits: UInt64 = 1 << 24
}
#endif

/// Flushes subnormal numbers to zero (or stops flushing them) in arithmetic on the calling
/// thread and in the kernels it runs, on Loom's worker threads too: PyTorch's
/// `torch.set_flush_denormal`. Returns whether the CPU can flush (`Denormals.canFlushToZero`);
/// where it cannot, nothing changes. See `Denormals` for what this changes and when it pays.
@discardableResult
public func setFlushDenormal(_ flush: Bool) -> Bool { Denormals.setThreadFlushesToZero(flush) }
