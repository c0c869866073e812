// The multiply-add every kernel uses. Where the build targets a CPU with fused multiply-add
// instructions (a native x86-64 build, any arm64 build) it is one FMA per lane, rounded once.
// A portable x86-64 build targets the baseline instruction set, which has none: there a fused
// multiply-add would be a library call per lane (about 50x slower), so it is a product and a
// sum, rounded twice. Such a build gives bitwise the same results on every path and thread
// count, but not the same last bits as a native build.

extension SIMD where Scalar: FloatingPoint {
    /// `self += a · b` per lane.
    @_transparent @inlinable
    package mutating func multiplyAdd(_ a: Self, _ b: Self) {
        self = addingMultiplied(a, b)
    }

    /// `self + a · b` per lane.
    @_transparent @inlinable
    package func addingMultiplied(_ a: Self, _ b: Self) -> Self {
        #if LOOM_NATIVE_BUILD || !arch(x86_64)
        return addingProduct(a, b)
        #else
        return self + a * b
        #endif
    }
}

extension FloatingPoint {
    /// `self + a · b`.
    @_transparent @inlinable
    package func addingMultiplied(_ a: Self, _ b: Self) -> Self {
        #if LOOM_NATIVE_BUILD || !arch(x86_64)
        return addingProduct(a, b)
        #else
        return self + a * b
        #endif
    }
}

extension Kernels {
    /// Whether `multiplyAdd` is one fused multiply-add per lane in this build (a native x86-64
    /// build, any arm64 build), rather than a product and a sum (a portable x86-64 build).
    @_transparent @inlinable
    package static var multiplyAddIsFused: Bool {
        #if LOOM_NATIVE_BUILD || !arch(x86_64)
        return true
        #else
        return false
        #endif
    }
}
