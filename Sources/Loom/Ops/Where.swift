// Selection by a boolean mask: `where`, `maskedFill`, and the comparisons that build masks.
// The forward selects (never multiplies by the mask), so a NaN or infinity in the branch
// that is not chosen does not leak into the result.

extension Tensor {
    /// Writes `out[i] = condition[i] ? a[i] : b[i]` over `shape`, reading each operand
    /// through its broadcast strides (0 on broadcast axes).
    static func selectBroadcast(shape: [Int], _ conditionBuffer: UnsafeBufferPointer<Bool>, conditionStrides: [Int],
                                _ a: UnsafePointer<Scalar>, aStrides: [Int],
                                _ b: UnsafePointer<Scalar>, bStrides: [Int],
                                _ out: UnsafeMutablePointer<Scalar>) {
        let total = Shape.count(of: shape)
        guard total > 0, let condition = conditionBuffer.baseAddress else { return }
        let rank = shape.count
        if rank == 0 {
            out[0] = condition[0] ? a[0] : b[0]
            return
        }
        let last = rank - 1
        let length = shape[last]
        let cs = conditionStrides[last], sa = aStrides[last], sb = bStrides[last]
        var index = [Int](repeating: 0, count: last)
        var cOffset = 0, aOffset = 0, bOffset = 0, outOffset = 0
        while outOffset < total {
            let c = condition + cOffset, pa = a + aOffset, pb = b + bOffset, o = out + outOffset
            for j in 0..<length {
                o[j] = c[j * cs] ? pa[j * sa] : pb[j * sb]
            }
            outOffset += length
            var axis = last - 1
            while axis >= 0 {
                index[axis] += 1
                cOffset += conditionStrides[axis]
                aOffset += aStrides[axis]
                bOffset += bStrides[axis]
                if index[axis] < shape[axis] { break }
                cOffset -= conditionStrides[axis] * shape[axis]
                aOffset -= aStrides[axis] * shape[axis]
                bOffset -= bStrides[axis] * shape[axis]
                index[axis] = 0
                axis -= 1
            }
        }
    }

    /// Elements of `a` where `condition` is true and of `b` where it is false (PyTorch's
    /// `torch.where`). The three shapes broadcast together (NumPy rules) to the result's
    /// shape. The gradient goes to `a` where the condition holds and to `b` elsewhere, each
    /// summed back to its own shape. A NaN or infinity in the unselected operand does not
    /// reach the result.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func `where`(_ condition: BoolTensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        guard let abShape = Shape.broadcast(a.shape, b.shape),
              let shape = Shape.broadcast(condition.shape, abShape) else {
            fatalError("where: condition \(condition.shape), a \(a.shape) and b \(b.shape) cannot be broadcast together")
        }
        let conditionStrides = Shape.broadcastStrides(of: condition.shape, to: shape)
        let result = Tensor(shape: shape) { out in
            condition.scalars.withUnsafeBufferPointer { c in
                selectBroadcast(shape: shape, c, conditionStrides: conditionStrides,
                                a.storage.base, aStrides: Shape.broadcastStrides(of: a.shape, to: shape),
                                b.storage.base, bStrides: Shape.broadcastStrides(of: b.shape, to: shape),
                                out.baseAddress!)
            }
        }
        return result.recorded("where", inputs: [a, b]) {
            let needA = a.requiresGrad, needB = b.requiresGrad
            let aShape = a.shape, bShape = b.shape
            return { g in
                let zero = Tensor(0)
                let zeroStrides = [Int](repeating: 0, count: shape.count)
                let gStrides = Shape.strides(of: shape)
                func masked(keepWhere keep: Bool) -> Tensor {
                    Tensor(shape: shape) { out in
                        condition.scalars.withUnsafeBufferPointer { c in
                            let (first, firstStrides, second, secondStrides) = keep
                                ? (g.storage.base, gStrides, zero.storage.base, zeroStrides)
                                : (zero.storage.base, zeroStrides, g.storage.base, gStrides)
                            selectBroadcast(shape: shape, c, conditionStrides: conditionStrides,
                                            first, aStrides: firstStrides, second, bStrides: secondStrides,
                                            out.baseAddress!)
                        }
                    }
                }
                return [needA ? masked(keepWhere: true).summed(toShape: aShape) : nil,
                        needB ? masked(keepWhere: false).summed(toShape: bShape) : nil]
            }
        }
    }

    /// This tensor with `value` wherever `mask` is true (PyTorch's `masked_fill`). The mask
    /// broadcasts to this tensor's shape, which the result keeps. No gradient flows to the
    /// filled positions.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func maskedFill(_ mask: BoolTensor, with value: Scalar) -> Tensor {
        checkShape(Shape.broadcast(mask.shape, shape) == shape,
                   "maskedFill: mask \(mask.shape) does not broadcast to tensor \(shape)")
        let maskStrides = Shape.broadcastStrides(of: mask.shape, to: shape)
        let ownStrides = Shape.strides(of: shape)
        let zeroStrides = [Int](repeating: 0, count: rank)
        let fill = Tensor(value)
        let result = Tensor(shape: shape) { out in
            mask.scalars.withUnsafeBufferPointer { m in
                Tensor.selectBroadcast(shape: shape, m, conditionStrides: maskStrides,
                                       fill.storage.base, aStrides: zeroStrides,
                                       storage.base, bStrides: ownStrides, out.baseAddress!)
            }
        }
        return result.recorded("maskedFill", inputs: [self]) {
            let shape = self.shape
            return { g in
                let zero = Tensor(0)
                return [Tensor(shape: shape) { out in
                    mask.scalars.withUnsafeBufferPointer { m in
                        Tensor.selectBroadcast(shape: shape, m, conditionStrides: maskStrides,
                                               zero.storage.base, aStrides: zeroStrides,
                                               g.storage.base, bStrides: ownStrides, out.baseAddress!)
                    }
                }]
            }
        }
    }

    /// The mask of elements for which `test(element)` holds, same shape.
    func comparisonMask(_ test: (Scalar) -> Bool) -> BoolTensor {
        let base = storage.base
        return BoolTensor(shape: shape, scalars: (0..<count).map { test(base[$0]) })
    }

    /// The mask of elements greater than `b` (not differentiable).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func .> (a: Tensor, b: Scalar) -> BoolTensor { a.comparisonMask { $0 > b } }
    /// The mask of elements less than `b` (not differentiable).
    public static func .< (a: Tensor, b: Scalar) -> BoolTensor { a.comparisonMask { $0 < b } }
    /// The mask of elements greater than or equal to `b` (not differentiable).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func .>= (a: Tensor, b: Scalar) -> BoolTensor { a.comparisonMask { $0 >= b } }
    /// The mask of elements less than or equal to `b` (not differentiable).
    public static func .<= (a: Tensor, b: Scalar) -> BoolTensor { a.comparisonMask { $0 <= b } }
    /// The mask of elements equal to `b` (not differentiable).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func .== (a: Tensor, b: Scalar) -> BoolTensor { a.comparisonMask { $0 == b } }
    /// The mask of elements different from `b` (not differentiable; NaN differs from all).
    public static func .!= (a: Tensor, b: Scalar) -> BoolTensor { a.comparisonMask { $0 != b } }
}
