// Elementwise arithmetic with NumPy broadcasting: +, -, *, / between tensors and with
// scalars, and negation. The backward of each reduces the incoming gradient back to each
// input's shape (summing over the broadcast axes).

extension Tensor {
    /// Applies a broadcasting binary kernel; stops with both shapes if they do not broadcast.
    static func broadcasting<Op: BinaryKernel>(_ op: Op.Type, _ name: String, _ a: Tensor, _ b: Tensor) -> Tensor {
        if a.shape == b.shape {
            return Tensor(shape: a.shape) { out in
                Kernels.binaryRow(op, a.storage.base, aStride: 1, b.storage.base, bStride: 1, out.baseAddress!, count: a.count)
            }
        }
        guard let shape = Shape.broadcast(a.shape, b.shape) else {
            fatalError("\(name): shapes \(a.shape) and \(b.shape) cannot be broadcast together")
        }
        return Tensor(shape: shape) { out in
            Kernels.binaryBroadcast(op, shape: shape, a.storage.base, aStrides: Shape.broadcastStrides(of: a.shape, to: shape),
                                    b.storage.base, bStrides: Shape.broadcastStrides(of: b.shape, to: shape), out.baseAddress!)
        }
    }

    /// Elementwise sum with broadcasting.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        broadcasting(AddKernel.self, "add", a, b).recorded("add", inputs: [a, b]) {
            { g in [g.summed(toShape: a.shape), g.summed(toShape: b.shape)] }
        }.traced(.binary(.add), [a, b])
    }

    /// Elementwise difference with broadcasting.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func - (a: Tensor, b: Tensor) -> Tensor {
        broadcasting(SubtractKernel.self, "sub", a, b).recorded("sub", inputs: [a, b]) {
            { g in [g.summed(toShape: a.shape), (-g).summed(toShape: b.shape)] }
        }.traced(.binary(.subtract), [a, b])
    }

    /// Elementwise product with broadcasting.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func * (a: Tensor, b: Tensor) -> Tensor {
        broadcasting(MultiplyKernel.self, "mul", a, b).recorded("mul", inputs: [a, b]) {
            let needA = a.requiresGrad, needB = b.requiresGrad
            let a = a.detached(), b = b.detached()
            return { g in
                [needA ? (g * b).summed(toShape: a.shape) : nil,
                 needB ? (g * a).summed(toShape: b.shape) : nil]
            }
        }.traced(.binary(.multiply), [a, b])
    }

    /// Elementwise quotient with broadcasting.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func / (a: Tensor, b: Tensor) -> Tensor {
        broadcasting(DivideKernel.self, "div", a, b).recorded("div", inputs: [a, b]) {
            let needA = a.requiresGrad, needB = b.requiresGrad
            let a = a.detached(), b = b.detached()
            return { g in
                let gOverB = g / b
                return [needA ? gOverB.summed(toShape: a.shape) : nil,
                        needB ? (-(gOverB * a / b)).summed(toShape: b.shape) : nil]
            }
        }.traced(.binary(.divide), [a, b])
    }

    /// Elementwise negation.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static prefix func - (x: Tensor) -> Tensor {
        x.mapped(NegateKernel.self).recorded("neg", inputs: [x]) { { g in [-g] } }.traced(.unary(.negate), [x])
    }

    /// Adds a scalar to every element.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func + (a: Tensor, b: Scalar) -> Tensor {
        a + Tensor(b)
    }
    /// Adds a scalar to every element.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func + (a: Scalar, b: Tensor) -> Tensor {
        Tensor(a) + b
    }
    /// Subtracts a scalar from every element.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func - (a: Tensor, b: Scalar) -> Tensor {
        a + (-b)
    }
    /// Subtracts every element from a scalar.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func - (a: Scalar, b: Tensor) -> Tensor {
        Tensor(a) - b
    }
    /// Multiplies every element by a scalar.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func * (a: Tensor, b: Scalar) -> Tensor {
        let result = Tensor(shape: a.shape) { out in Kernels.scale(a.storage.base, by: b, out.baseAddress!, count: a.count) }
        return result.recorded("mul_scalar", inputs: [a]) { { g in [g * b] } }.traced(.scale(b), [a])
    }
    /// Multiplies every element by a scalar.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func * (a: Scalar, b: Tensor) -> Tensor {
        b * a
    }
    /// Divides every element by a scalar.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func / (a: Tensor, b: Scalar) -> Tensor {
        a * (1 / b)
    }
    /// Divides a scalar by every element.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func / (a: Scalar, b: Tensor) -> Tensor {
        Tensor(a) / b
    }

    /// `self += other`, as a new recorded op (the value semantics of `Tensor` make this
    /// `self = self + other`).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func += (a: inout Tensor, b: Tensor) { a = a + b }
    /// `self -= other`.
    public static func -= (a: inout Tensor, b: Tensor) { a = a - b }
    /// `self *= other`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func *= (a: inout Tensor, b: Tensor) { a = a * b }
    /// `self /= other`.
    public static func /= (a: inout Tensor, b: Tensor) { a = a / b }

    /// Adds `other` (same shape) into this tensor's storage without recording anything.
    /// Used for gradient accumulation and optimizer updates.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public mutating func addInPlace(_ other: Tensor) {
        checkShape(other.shape == shape, "addInPlace: shapes \(shape) and \(other.shape) differ")
        makeStorageUnique()
        Kernels.accumulate(other.storage.base, into: storage.base, count: count)
    }

    /// `addInPlace(other)` for an `other` that is zero outside `runs`: adds only those.
    mutating func addInPlace(_ other: Tensor, runs: NonzeroRuns) {
        makeStorageUnique()
        let source = other.storage.base, target = storage.base
        for run in 0..<runs.runs {
            let offset = runs.start + run * runs.stride
            Kernels.accumulate(source + offset, into: target + offset, count: runs.length)
        }
    }

    /// Sums this tensor over the axes along which `target` was broadcast to produce it, so
    /// the result has shape `target`. The backward of every broadcasting op uses it.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func summed(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        let offset = rank - target.count
        checkShape(offset >= 0, "sum to shape: cannot reduce \(shape) to \(target)")
        var axes: [Int] = Array(0..<offset)
        for axis in target.indices where target[axis] == 1 && shape[axis + offset] != 1 {
            axes.append(axis + offset)
        }
        var result = axes.isEmpty ? self : sum(dims: axes, keepDims: true)
        result = result.reshaped(target)
        return result
    }
}
