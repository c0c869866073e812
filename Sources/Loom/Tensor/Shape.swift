/// Shape arithmetic shared by tensors and ops: element counts, strides, offsets, axis
/// normalization and broadcasting.
public enum Shape {
    /// The number of elements of a tensor with this shape.
    @inlinable
    public static func count(of shape: [Int]) -> Int {
        var result = 1
        for size in shape { result *= size }
        return result
    }

    /// Row-major strides (in elements) of a contiguous tensor with this shape.
    @inlinable
    public static func strides(of shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var stride = 1
        for axis in shape.indices.reversed() {
            strides[axis] = stride
            stride *= shape[axis]
        }
        return strides
    }

    /// The row-major offset of a multi-dimensional index; stops if the index is out of range.
    static func offset(of index: [Int], in shape: [Int]) -> Int {
        checkShape(index.count == shape.count, "index \(index) does not fit shape \(shape)")
        var offset = 0
        for axis in shape.indices {
            checkShape(index[axis] >= 0 && index[axis] < shape[axis], "index \(index) is out of range for shape \(shape)")
            offset = offset * shape[axis] + index[axis]
        }
        return offset
    }

    /// Resolves a possibly negative axis (`-1` is the last) against a rank, stopping with a
    /// message naming `op` if it is out of range.
    public static func normalize(axis: Int, rank: Int, op: String) -> Int {
        let resolved = axis < 0 ? axis + rank : axis
        checkShape(resolved >= 0 && resolved < max(rank, 1),
                   "\(op): dim \(axis) is out of range for a tensor of rank \(rank)")
        return resolved
    }

    /// The NumPy broadcast of two shapes, or `nil` if they are incompatible.
    public static func broadcast(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = max(a.count, b.count)
        var result = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            if da == db || db == 1 { result[i] = da } else if da == 1 { result[i] = db } else { return nil }
        }
        return result
    }

    /// Strides for reading a tensor of shape `shape` as if broadcast to `target`: 0 on every
    /// broadcast axis.
    /// `newShape` with its one `-1` (if any) replaced by the size that keeps the element
    /// count of `shape`; stops naming `op` when no such size exists.
    static func resolving(_ newShape: [Int], from shape: [Int], op: String) -> [Int] {
        let count = Shape.count(of: shape)
        var resolved = newShape
        checkShape(newShape.filter { $0 == -1 }.count <= 1, "\(op): at most one size may be -1, got \(newShape)")
        if let inferred = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != inferred }.reduce(1) { $0 * $1.element }
            checkShape(known > 0 && count % known == 0, "\(op): cannot reshape \(shape) to \(newShape)")
            resolved[inferred] = count / known
        }
        checkShape(Shape.count(of: resolved) == count && resolved.allSatisfy { $0 >= 0 },
                   "\(op): cannot reshape \(shape) (\(count) elements) to \(newShape)")
        return resolved
    }

    static func broadcastStrides(of shape: [Int], to target: [Int]) -> [Int] {
        let own = strides(of: shape)
        let offset = target.count - shape.count
        var result = [Int](repeating: 0, count: target.count)
        for axis in shape.indices where shape[axis] != 1 {
            result[axis + offset] = own[axis]
        }
        return result
    }
}

/// Stops the program with `message` when `condition` is false. Used for programming
/// errors such as wrong shapes (a wrong shape is a programming error, not bad data); unlike `precondition`, the
/// message is printed in optimized builds too.
@inlinable
public func checkShape(_ condition: Bool, _ message: @autoclosure () -> String,
                       file: StaticString = #fileID, line: UInt = #line) {
    if !condition {
        fatalError(message(), file: file, line: line)
    }
}
