/// Renders nested brackets for any row-major element source; shared by all tensor types.
enum TensorFormatter {
    /// The bracketed rendering of a tensor of `shape` whose element `i` renders as `element(i)`.
    /// Long axes are elided with `...` after three leading and before three trailing entries.
    static func render(shape: [Int], element: (Int) -> String) -> String {
        if shape.isEmpty { return element(0) }
        let strides = Shape.strides(of: shape)
        func level(_ axis: Int, _ offset: Int) -> String {
            let size = shape[axis]
            var indices = Array(0..<size)
            var elided = false
            if size > 8 { indices = [0, 1, 2, size - 3, size - 2, size - 1]; elided = true }
            var parts: [String] = []
            for (n, i) in indices.enumerated() {
                if elided && n == 3 { parts.append("...") }
                parts.append(axis == shape.count - 1 ? element(offset + i) : level(axis + 1, offset + i * strides[axis]))
            }
            let separator = axis == shape.count - 1 ? ", " : ",\n" + String(repeating: " ", count: 8 + axis)
            return "[" + parts.joined(separator: separator) + "]"
        }
        return level(0, 0)
    }
}

extension Tensor: CustomStringConvertible {
    /// A readable rendering in PyTorch's style, e.g.
    /// `tensor([[1.0000, 2.0000], [3.0000, 4.0000]], requiresGrad: true)`.
    public var description: String {
        let body = TensorFormatter.render(shape: shape) { index in
            let value = storage.base[index]
            if value.isNaN { return "nan" }
            if value.isInfinite { return value > 0 ? "inf" : "-inf" }
            return formatScalar(Double(value))
        }
        var text = "tensor(" + body
        if rank > 1 && count == 0 { text += ", shape: \(shape)" }
        if requiresGrad { text += ", requiresGrad: true" }
        if Scalar.self == Double.self { text += ", dtype: float64" }
        return text + ")"
    }
}

/// Four decimals, or scientific notation for very large or small magnitudes.
private func formatScalar(_ value: Double) -> String {
    let magnitude = Swift.abs(value)
    if magnitude != 0 && (magnitude >= 1e6 || magnitude < 1e-4) {
        return String(format: "%.4e", value)
    }
    return String(format: "%.4f", value)
}

import Foundation
