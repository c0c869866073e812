// Unfolding the sliding windows of a 1-D convolution into a matrix, and folding a matrix of
// window gradients back: the convolution itself is then one gemm (Ops/Conv1d.swift).

extension Kernels {
    /// Writes the windows of `x` `[batch, channels, length]` as the columns of
    /// `windows` `[channels · kernelSize, batch · outputLength]`: entry
    /// `(c · kernelSize + k, b · outputLength + l)` is `x[b, c, l + k - padding]`, zero where
    /// that position falls in the padding. Every row is a run of contiguous copies.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    package static func unfoldWindows<S: TensorScalar>(
        _ x: UnsafePointer<S>, batch: Int, channels: Int, length: Int, kernelSize: Int, padding: Int,
        outputLength: Int, into windows: UnsafeMutablePointer<S>
    ) {
        let columns = batch * outputLength
        for c in 0..<channels {
            for k in 0..<kernelSize {
                let row = windows + (c * kernelSize + k) * columns
                let (first, end) = windowInside(offset: k, length: length, padding: padding, outputLength: outputLength)
                for b in 0..<batch {
                    let target = row + b * outputLength
                    let source = x + (b * channels + c) * length
                    if first > 0 { target.update(repeating: 0, count: first) }
                    if end > first { (target + first).update(from: source + (first + k - padding), count: end - first) }
                    if outputLength > end { (target + end).update(repeating: 0, count: outputLength - end) }
                }
            }
        }
    }

    /// The adjoint of `unfoldWindows`: adds each entry of `windows`
    /// `[channels · kernelSize, batch · outputLength]` into the position of `gradient`
    /// `[batch, channels, length]` it was read from (entries that were padding are dropped).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    package static func foldWindows<S: TensorScalar>(
        _ windows: UnsafePointer<S>, batch: Int, channels: Int, length: Int, kernelSize: Int, padding: Int,
        outputLength: Int, into gradient: UnsafeMutablePointer<S>
    ) {
        let columns = batch * outputLength
        for c in 0..<channels {
            for k in 0..<kernelSize {
                let row = windows + (c * kernelSize + k) * columns
                let (first, end) = windowInside(offset: k, length: length, padding: padding, outputLength: outputLength)
                guard end > first else { continue }
                for b in 0..<batch {
                    accumulate(row + b * outputLength + first,
                               into: gradient + (b * channels + c) * length + (first + k - padding), count: end - first)
                }
            }
        }
    }

    /// The output positions `first..<end` whose source `l + offset - padding` lies inside
    /// `0..<length`, for the filter tap `offset` (`first...end` clamped to `0...outputLength`).
    @inline(__always)
    static func windowInside(offset: Int, length: Int, padding: Int, outputLength: Int) -> (first: Int, end: Int) {
        let first = Swift.min(Swift.max(padding - offset, 0), outputLength)
        return (first, Swift.max(Swift.min(length + padding - offset, outputLength), first))
    }
}
