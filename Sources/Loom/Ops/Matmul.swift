// Matrix products: 2-D `[M, K] · [K, N]` and batched `[..., M, K] · [..., K, N]` (the
// batch dimensions must match or be absent on one side, which is then shared). An operand
// that is a deferred transpose (`transposed` of the last two axes, not yet written) is read
// in place with a transposed layout, and its gradient is produced in its source's layout,
// so a product with `w.transposed(0, 1)` never copies `w` or its gradient.

/// How a product reads one operand: the scalars, whether they hold the operand's transpose,
/// and the row stride of the matrix as stored.
struct MatmulOperand<Scalar: TensorScalar> {
    /// The storage read, and its first scalar.
    let storage: TensorStorage<Scalar>
    let pointer: UnsafePointer<Scalar>
    let isTransposed: Bool
    let leadingDimension: Int

    /// The operand `tensor` (rank ≥ 2): its deferred source when it is an unwritten swap of
    /// the last two axes, its own scalars otherwise.
    init(_ tensor: Tensor<Scalar>) {
        let rows = tensor.shape[tensor.rank - 2], columns = tensor.shape[tensor.rank - 1]
        if let source = tensor.deferredTransposeSource {
            storage = source
            pointer = UnsafePointer(source.base)
            isTransposed = true
            leadingDimension = rows
        } else {
            storage = tensor.storage
            pointer = UnsafePointer(tensor.storage.base)
            isTransposed = false
            leadingDimension = columns
        }
    }
}

extension Tensor {
    /// The matrix product. For 2-D operands `[M, K]` and `[K, N]` it returns `[M, N]`; for
    /// batched operands `[B..., M, K]` and `[B..., K, N]` it returns `[B..., M, N]`, and a
    /// 2-D operand is shared by every batch of the other. A 1-D right operand `[K]` is a
    /// vector: `[..., M, K] · [K]` gives `[..., M]`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func matmul(_ other: Tensor) -> Tensor {
        if other.rank == 1 {
            return matmul(other.reshaped([other.count, 1])).reshaped(Array(shape.dropLast()))
        }
        checkShape(rank >= 2 && other.rank >= 2,
                   "matmul: needs matrices, got shapes \(shape) and \(other.shape)")
        let m = shape[rank - 2], k = shape[rank - 1]
        let k2 = other.shape[other.rank - 2], n = other.shape[other.rank - 1]
        let batchA = Array(shape.dropLast(2)), batchB = Array(other.shape.dropLast(2))
        checkShape(k == k2 && (batchA == batchB || batchA.isEmpty || batchB.isEmpty),
                   "matmul: shapes \(shape) and \(other.shape) do not multiply")
        let batch = batchA.isEmpty ? batchB : batchA
        let batchCount = Shape.count(of: batch)
        let strideA = batchA.isEmpty ? 0 : m * k
        let strideB = batchB.isEmpty ? 0 : k * n
        let left = MatmulOperand(self), right = MatmulOperand(other)
        let result = Tensor(shape: batch + [m, n]) { out in
            for bi in 0..<batchCount {
                Tensor.gemm(transposeA: left.isTransposed, m: m, n: n, k: k,
                            left.pointer + bi * strideA, lda: left.leadingDimension,
                            right, transposeB: right.isTransposed, batch: bi, batchStride: strideB,
                            out.baseAddress! + bi * m * n, ldc: n, accumulate: false)
            }
        }
        return result.recorded("matmul", inputs: [self, other]) {
            let a = self.detached(), b = other.detached()
            let needA = self.requiresGrad, needB = other.requiresGrad
            return { g in
                // dA = g · Bᵀ, dB = Aᵀ · g, each summed over batches the operand was shared by.
                // For an operand read transposed, the transpose of its gradient is computed
                // (dAᵀ = B · gᵀ, dBᵀ = gᵀ · A) and handed back as a deferred transpose.
                let left = MatmulOperand(a), right = MatmulOperand(b)
                let gradient = UnsafePointer(g.storage.base)
                var gradA: Tensor? = nil, gradB: Tensor? = nil
                if needA {
                    let transposed = left.isTransposed
                    gradA = Tensor.product(shape: a.shape, transposed: transposed, batches: batchCount,
                                           outputStride: strideA) { target, bi in
                        if transposed {
                            Kernels.gemm(transposeA: right.isTransposed, transposeB: true, m: k, n: m, k: n,
                                         right.pointer + bi * strideB, lda: right.leadingDimension,
                                         gradient + bi * m * n, ldb: n, target, ldc: m, accumulate: strideA == 0 && bi > 0)
                        } else {
                            Tensor.gemm(transposeA: false, m: m, n: k, k: n, gradient + bi * m * n, lda: n,
                                        right, transposeB: !right.isTransposed, batch: bi, batchStride: strideB,
                                        target, ldc: k, accumulate: strideA == 0 && bi > 0)
                        }
                    }
                }
                if needB {
                    let transposed = right.isTransposed
                    gradB = Tensor.product(shape: b.shape, transposed: transposed, batches: batchCount,
                                           outputStride: strideB) { target, bi in
                        if transposed {
                            Kernels.gemm(transposeA: true, transposeB: left.isTransposed, m: n, n: k, k: m,
                                         gradient + bi * m * n, lda: n, left.pointer + bi * strideA,
                                         ldb: left.leadingDimension, target, ldc: k, accumulate: strideB == 0 && bi > 0)
                        } else {
                            Kernels.gemm(transposeA: !left.isTransposed, transposeB: false, m: k, n: n, k: m,
                                         left.pointer + bi * strideA, lda: left.leadingDimension,
                                         gradient + bi * m * n, ldb: n, target, ldc: n, accumulate: strideB == 0 && bi > 0)
                        }
                    }
                }
                return [gradA, gradB]
            }
        }
    }

    /// `C = op(A) · op(B)` (or `+=`, or `bias + ` each row; see `Kernels.gemm`) for batch
    /// `batch` of the right operand `b`: a 2-D right operand that is a whole storage goes
    /// through the packed form the storage keeps (so a weight is packed once, not at every
    /// step), with the same bits as packing it anew.
    static func gemm(transposeA: Bool, m: Int, n: Int, k: Int, _ a: UnsafePointer<Scalar>, lda: Int,
                     _ b: MatmulOperand<Scalar>, transposeB: Bool, batch: Int, batchStride: Int,
                     _ c: UnsafeMutablePointer<Scalar>, ldc: Int, accumulate: Bool, bias: UnsafePointer<Scalar>? = nil) {
        if batchStride == 0, !Kernels.gemmIsThin(m: m, n: n, k: k), b.leadingDimension == (transposeB ? k : n),
           let packed = b.storage.packedRightOperand(transposed: transposeB, k: k, n: n) {
            Kernels.gemmPrepacked(transposeA: transposeA, m: m, a, lda: lda, packed, c, ldc: ldc, accumulate: accumulate,
                                  bias: bias)
        } else {
            Kernels.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a, lda: lda,
                         b.pointer + batch * batchStride, ldb: b.leadingDimension, c, ldc: ldc, accumulate: accumulate,
                         bias: bias)
        }
    }

    /// A gradient of shape `shape` summed over `batches` products: `product(target, bi)`
    /// writes batch `bi`'s product into `target` (adding to it after the first batch when the
    /// operand was shared, `outputStride` 0). With `transposed`, the
    /// products are written in the layout of `shape` with its last two axes swapped, and the
    /// result is their deferred transpose.
    static func product(shape: [Int], transposed: Bool, batches: Int, outputStride: Int,
                        _ product: (UnsafeMutablePointer<Scalar>, Int) -> Void) -> Tensor {
        let written = Tensor(shape: transposed ? swappingLastAxes(shape) : shape) { out in
            let target = out.baseAddress!
            if batches == 0 { target.initialize(repeating: 0, count: out.count) }
            for bi in 0..<batches { product(target + bi * outputStride, bi) }
        }
        guard transposed else { return written }
        return Tensor(shape: shape, storage: written.transposedLastAxesStorage())
    }
}

/// The matrix product of two tensors (see `Tensor.matmul`).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func matmul<Scalar>(_ a: Tensor<Scalar>, _ b: Tensor<Scalar>) -> Tensor<Scalar> { a.matmul(b) }
