extension Tensor {
    /// A tensor of the given shape with every element equal to `value`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func full(_ shape: [Int], _ value: Scalar) -> Tensor {
        Tensor(shape: shape, storage: TensorStorage(repeating: value, count: Shape.count(of: shape)))
    }

    /// A tensor of zeros.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func zeros(_ shape: [Int]) -> Tensor { full(shape, 0) }

    /// A tensor of ones.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func ones(_ shape: [Int]) -> Tensor { full(shape, 1) }

    /// A tensor of zeros shaped like `other`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func zeros(like other: Tensor) -> Tensor { full(other.shape, 0) }

    /// A tensor of ones shaped like `other`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func ones(like other: Tensor) -> Tensor { full(other.shape, 1) }

    /// The values `0, 1, ...` below `end` (PyTorch's `arange(end)`).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func arange(_ end: Scalar) -> Tensor {
        arange(0, end)
    }

    /// The values `start, start + step, ...` below `end` (PyTorch's `arange`).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func arange(_ start: Scalar, _ end: Scalar, step: Scalar = 1) -> Tensor {
        checkShape(step != 0, "arange: step must not be 0")
        let n = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        return Tensor(shape: [n]) { out in
            for i in 0..<n { out[i] = start + Scalar(i) * step }
        }
    }

    /// The identity matrix of size n×n.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func eye(_ n: Int) -> Tensor {
        Tensor(shape: [n, n]) { out in
            out.initialize(repeating: 0)
            for i in 0..<n { out[i * n + i] = 1 }
        }
    }

    /// The same values converted to another scalar type (no place on the tape).
    public func converted<Other: TensorScalar>(to: Other.Type) -> Tensor<Other> {
        Tensor<Other>(shape: shape) { out in
            for i in 0..<count { out[i] = Other(storage.base[i]) }
        }
    }
}
