/// A pointwise binary operation, given both as a SIMD-vector function and a scalar one
/// (for tails), so one generic loop serves every operation at full vector width.
package protocol BinaryKernel {
    /// Applies the operation lane by lane.
    static func apply<V: SIMD>(_ a: V, _ b: V) -> V where V.Scalar: TensorScalar
    /// Applies the operation to one pair of scalars.
    static func apply<S: TensorScalar>(_ a: S, _ b: S) -> S
}

/// `a + b`.
package enum AddKernel: BinaryKernel {
    @inlinable @inline(__always) package static func apply<V: SIMD>(_ a: V, _ b: V) -> V where V.Scalar: TensorScalar { a + b }
    @inlinable @inline(__always) package static func apply<S: TensorScalar>(_ a: S, _ b: S) -> S { a + b }
}
/// `a - b`.
package enum SubtractKernel: BinaryKernel {
    @inlinable @inline(__always) package static func apply<V: SIMD>(_ a: V, _ b: V) -> V where V.Scalar: TensorScalar { a - b }
    @inlinable @inline(__always) package static func apply<S: TensorScalar>(_ a: S, _ b: S) -> S { a - b }
}
/// `a * b`.
package enum MultiplyKernel: BinaryKernel {
    @inlinable @inline(__always) package static func apply<V: SIMD>(_ a: V, _ b: V) -> V where V.Scalar: TensorScalar { a * b }
    @inlinable @inline(__always) package static func apply<S: TensorScalar>(_ a: S, _ b: S) -> S { a * b }
}
/// `a / b`.
package enum DivideKernel: BinaryKernel {
    @inlinable @inline(__always) package static func apply<V: SIMD>(_ a: V, _ b: V) -> V where V.Scalar: TensorScalar { a / b }
    @inlinable @inline(__always) package static func apply<S: TensorScalar>(_ a: S, _ b: S) -> S { a / b }
}
/// `max(a, b)`.
package enum MaximumKernel: BinaryKernel {
    @inlinable @inline(__always) package static func apply<V: SIMD>(_ a: V, _ b: V) -> V where V.Scalar: TensorScalar { pointwiseMax(a, b) }
    @inlinable @inline(__always) package static func apply<S: TensorScalar>(_ a: S, _ b: S) -> S { Swift.max(a, b) }
}

/// The low-level loops over raw memory. Everything here works on pointers and counts and
/// knows nothing of tensors or the tape.
package enum Kernels {
    /// `out[i] = Op(a[i * aStride], b[i * bStride])` for `i < count`, where each stride is 0
    /// (a broadcast scalar) or 1. `out` may alias `a` or `b`.
    @_specialize(where Op == AddKernel, S == Float)
    @_specialize(where Op == AddKernel, S == Double)
    @_specialize(where Op == SubtractKernel, S == Float)
    @_specialize(where Op == SubtractKernel, S == Double)
    @_specialize(where Op == MultiplyKernel, S == Float)
    @_specialize(where Op == MultiplyKernel, S == Double)
    @_specialize(where Op == DivideKernel, S == Float)
    @_specialize(where Op == DivideKernel, S == Double)
    @_specialize(where Op == MaximumKernel, S == Float)
    @_specialize(where Op == MaximumKernel, S == Double)
    @inlinable
    package static func binaryRow<Op: BinaryKernel, S: TensorScalar>(
        _ op: Op.Type, _ a: UnsafePointer<S>, aStride: Int, _ b: UnsafePointer<S>, bStride: Int,
        _ out: UnsafeMutablePointer<S>, count: Int
    ) {
        typealias V = S.Vector
        let width = V.scalarCount
        var i = 0
        switch (aStride, bStride) {
        case (1, 1):
            while i + width <= count {
                Op.apply(load(V.self, a + i), load(V.self, b + i)).store(to: out + i)
                i += width
            }
            while i < count { out[i] = Op.apply(a[i], b[i]); i += 1 }
        case (1, 0):
            let vb = V(repeating: b[0]), sb = b[0]
            while i + width <= count {
                Op.apply(load(V.self, a + i), vb).store(to: out + i)
                i += width
            }
            while i < count { out[i] = Op.apply(a[i], sb); i += 1 }
        case (0, 1):
            let va = V(repeating: a[0]), sa = a[0]
            while i + width <= count {
                Op.apply(va, load(V.self, b + i)).store(to: out + i)
                i += width
            }
            while i < count { out[i] = Op.apply(sa, b[i]); i += 1 }
        default:
            let value = Op.apply(a[0], b[0])
            while i < count { out[i] = value; i += 1 }
        }
    }

    /// Applies `Op` to `a` and `b` broadcast to `shape` (NumPy rules), writing the
    /// contiguous result to `out`. `aStrides`/`bStrides` are the broadcast strides
    /// (0 on broadcast axes) of the two inputs against `shape`.
    @_specialize(where Op == AddKernel, S == Float)
    @_specialize(where Op == AddKernel, S == Double)
    @_specialize(where Op == SubtractKernel, S == Float)
    @_specialize(where Op == SubtractKernel, S == Double)
    @_specialize(where Op == MultiplyKernel, S == Float)
    @_specialize(where Op == MultiplyKernel, S == Double)
    @_specialize(where Op == DivideKernel, S == Float)
    @_specialize(where Op == DivideKernel, S == Double)
    @_specialize(where Op == MaximumKernel, S == Float)
    @_specialize(where Op == MaximumKernel, S == Double)
    @inlinable
    package static func binaryBroadcast<Op: BinaryKernel, S: TensorScalar>(
        _ op: Op.Type, shape: [Int], _ a: UnsafePointer<S>, aStrides: [Int],
        _ b: UnsafePointer<S>, bStrides: [Int], _ out: UnsafeMutablePointer<S>
    ) {
        let total = Shape.count(of: shape)
        if total == 0 { return }
        // Fold the innermost axes into one row while both inputs stay contiguous (stride 1)
        // or constant (stride 0) along it.
        let rank = shape.count
        var rowLength = 1
        var innerAxes = 0
        var aRow = -1, bRow = -1
        for axis in stride(from: rank - 1, through: 0, by: -1) {
            let sa = aStrides[axis] == 0 ? 0 : (aStrides[axis] == rowLength ? 1 : -1)
            let sb = bStrides[axis] == 0 ? 0 : (bStrides[axis] == rowLength ? 1 : -1)
            if shape[axis] == 1 { innerAxes += 1; continue }
            if sa < 0 || sb < 0 { break }
            if aRow == -1 { aRow = sa } else if aRow != sa { break }
            if bRow == -1 { bRow = sb } else if bRow != sb { break }
            rowLength *= shape[axis]
            innerAxes += 1
        }
        if aRow == -1 { aRow = 0 }
        if bRow == -1 { bRow = 0 }
        let outerRank = rank - innerAxes
        if outerRank == 0 {
            binaryRow(op, a, aStride: aRow, b, bStride: bRow, out, count: rowLength)
            return
        }
        var index = [Int](repeating: 0, count: outerRank)
        var aOffset = 0, bOffset = 0, outOffset = 0
        while outOffset < total {
            binaryRow(op, a + aOffset, aStride: aRow, b + bOffset, bStride: bRow, out + outOffset, count: rowLength)
            outOffset += rowLength
            var axis = outerRank - 1
            while axis >= 0 {
                index[axis] += 1
                aOffset += aStrides[axis]
                bOffset += bStrides[axis]
                if index[axis] < shape[axis] { break }
                aOffset -= aStrides[axis] * shape[axis]
                bOffset -= bStrides[axis] * shape[axis]
                index[axis] = 0
                axis -= 1
            }
        }
    }

    /// Loads one SIMD vector from possibly unaligned memory.
    @inlinable @inline(__always)
    package static func load<V: SIMD>(_: V.Type, _ pointer: UnsafePointer<V.Scalar>) -> V {
        UnsafeRawPointer(pointer).loadUnaligned(as: V.self)
    }
}

extension SIMD {
    /// Stores the vector to possibly unaligned memory.
    @inlinable @inline(__always)
    package func store(to pointer: UnsafeMutablePointer<Scalar>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: self, as: Self.self)
    }
}
