// Matrix products: 2-D `[M, K] · [K, N]` and batched `[..., M, K] · [..., K, N]` (the
// batch dimensions must match or be absent on one side, which is then shared).

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
        let result = Tensor(shape: batch + [m, n]) { out in
            for bi in 0..<batchCount {
                Kernels.gemm(transposeA: false, transposeB: false, m: m, n: n, k: k,
                             storage.base + bi * strideA, lda: k, other.storage.base + bi * strideB, ldb: n,
                             out.baseAddress! + bi * m * n, ldc: n, accumulate: false)
            }
        }
        return result.recorded("matmul", inputs: [self, other]) {
            let a = self.detached(), b = other.detached()
            let needA = self.requiresGrad, needB = other.requiresGrad
            return { g in
                // dA = g · Bᵀ, dB = Aᵀ · g, each summed over batches the operand was shared by.
                var gradA: Tensor? = nil, gradB: Tensor? = nil
                if needA {
                    gradA = Tensor(shape: a.shape) { out in
                        let target = out.baseAddress!
                        target.initialize(repeating: 0, count: out.count)
                        for bi in 0..<batchCount {
                            Kernels.gemm(transposeA: false, transposeB: true, m: m, n: k, k: n,
                                         g.storage.base + bi * m * n, lda: n, b.storage.base + bi * strideB, ldb: n,
                                         target + bi * strideA, ldc: k, accumulate: true)
                        }
                    }
                }
                if needB {
                    gradB = Tensor(shape: b.shape) { out in
                        let target = out.baseAddress!
                        target.initialize(repeating: 0, count: out.count)
                        for bi in 0..<batchCount {
                            Kernels.gemm(transposeA: true, transposeB: false, m: k, n: n, k: m,
                                         a.storage.base + bi * strideA, lda: k, g.storage.base + bi * m * n, ldb: n,
                                         target + bi * strideB, ldc: n, accumulate: true)
                        }
                    }
                }
                return [gradA, gradB]
            }
        }
    }
}

/// The matrix product of two tensors (see `Tensor.matmul`).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func matmul<Scalar>(_ a: Tensor<Scalar>, _ b: Tensor<Scalar>) -> Tensor<Scalar> { a.matmul(b) }
