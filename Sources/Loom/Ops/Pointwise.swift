// Unary pointwise functions: exp, log, tanh, sigmoid, relu, with their gradients.

extension Tensor {
    /// Applies a unary kernel to every element, unrecorded.
    func mapped<Op: UnaryKernel>(_ op: Op.Type) -> Tensor {
        Tensor(shape: shape) { out in Kernels.unary(op, storage.base, out.baseAddress!, count: count) }
    }

    /// e^x elementwise.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func exp() -> Tensor {
        let y = mapped(ExpKernel.self)
        return y.recorded("exp", inputs: [self]) { let y = y.detached(); return { g in [g * y] } }.traced(.unary(.exp), [self])
    }

    /// The natural logarithm elementwise.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func log() -> Tensor {
        mapped(LogKernel.self).recorded("log", inputs: [self]) { let x = self.detached(); return { g in [g / x] } }.traced(.unary(.log), [self])
    }

    /// The hyperbolic tangent elementwise; its gradient is `1 - tanh(x)^2`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func tanh() -> Tensor {
        let y = mapped(TanhKernel.self)
        return y.recorded("tanh", inputs: [self]) { let y = y.detached(); return { g in [g * (1 - y * y)] } }.traced(.unary(.tanh), [self])
    }

    /// The logistic sigmoid `1 / (1 + e^-x)` elementwise, stable for large |x|; its
    /// gradient is `σ(x)(1 - σ(x))`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func sigmoid() -> Tensor {
        let y = mapped(SigmoidKernel.self)
        return y.recorded("sigmoid", inputs: [self]) { let y = y.detached(); return { g in [g * (y * (1 - y))] } }.traced(.unary(.sigmoid), [self])
    }

    /// `max(x, 0)` elementwise; the gradient is 1 where x > 0 and 0 elsewhere (PyTorch's
    /// convention at 0).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func relu() -> Tensor {
        let y = mapped(ReluKernel.self)
        return y.recorded("relu", inputs: [self]) {
            let y = y.detached()
            return { g in
                [Tensor(shape: g.shape) { out in
                    for i in 0..<g.count { out[i] = y.storage.base[i] > 0 ? g.storage.base[i] : 0 }
                }]
            }
        }.traced(.unary(.relu), [self])
    }
}

/// e^x elementwise.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func exp<Scalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> { x.exp() }
/// The natural logarithm elementwise.
public func log<Scalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> { x.log() }
/// The hyperbolic tangent elementwise.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func tanh<Scalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> { x.tanh() }
/// The logistic sigmoid elementwise.
public func sigmoid<Scalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> { x.sigmoid() }
/// `max(x, 0)` elementwise.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func relu<Scalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> { x.relu() }
