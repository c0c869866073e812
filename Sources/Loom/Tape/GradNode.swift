import Synchronization

/// One entry of the autograd tape: either a leaf (a tensor the user asked gradients for,
/// such as a parameter) or a recorded operation with its inputs and backward function.
///
/// Nodes are numbered in the order they are created, which is a topological order of the
/// graph: `backward()` walks the nodes reachable from its root in decreasing number.
/// Tensors own their nodes and nodes own their inputs' nodes, never the reverse, so the
/// graph has no cycles and is freed as soon as its last tensor is; `backward()` also
/// releases each node's saved tensors as it passes (unless `retainGraph` is set).
///
/// A node may be reached from several threads: two `backward()` walks over graphs that share
/// parameters both add into the same leaves. Its mutable state (inputs, backward function,
/// accumulated gradient) is therefore kept behind a lock, and each walk keeps its own record
/// of the nodes it visited, so concurrent walks never race.
@usableFromInline final class GradNode<Scalar: TensorScalar>: Sendable {
    /// The backward function of an op: given the gradient of the op's output, the gradient
    /// of each input (in `inputs` order), or `nil` for an input that needs none.
    typealias Backward = (Tensor<Scalar>) -> [Tensor<Scalar>?]

    /// The position on the tape: larger numbers were recorded later.
    let sequence: Int
    /// What the node computes (`"matmul"`, `"leaf"`...), for messages and debugging.
    let name: String
    /// The shape of the tensor this node belongs to; gradients flowing in must match it.
    let shape: [Int]
    /// Whether this node is a leaf (its gradient is kept after `backward()`).
    let isLeaf: Bool

    /// The lock-protected part of the node.
    private struct State: @unchecked Sendable {
        /// The nodes of the op's inputs, `nil` for inputs that do not require a gradient.
        var inputs: [GradNode?]
        /// The op's backward function; `nil` for a leaf and for a node already released.
        /// Backward functions capture tensors, which are values safe to share.
        var backward: Backward?
        /// The accumulated gradient: persistent for a leaf, transient (during one backward
        /// walk) for an op node.
        var grad: Tensor<Scalar>?
    }
    private let state: Mutex<State>

    init(name: String, shape: [Int], inputs: [GradNode?], backward: Backward?, isLeaf: Bool) {
        self.sequence = Tape.nextSequence()
        self.name = name
        self.shape = shape
        self.isLeaf = isLeaf
        self.state = Mutex(State(inputs: inputs, backward: backward, grad: nil))
    }

    /// The nodes of the op's inputs (empty for a leaf or a released node).
    var inputs: [GradNode?] { state.withLock { $0.inputs } }

    /// The op's backward function, `nil` for a leaf and for a released node.
    var backward: Backward? { state.withLock { $0.backward } }

    /// The accumulated gradient.
    var grad: Tensor<Scalar>? {
        get { state.withLock { $0.grad } }
        set { state.withLock { $0.grad = newValue } }
    }

    /// Removes and returns the accumulated gradient.
    func takeGradient() -> Tensor<Scalar>? {
        state.withLock { state in
            defer { state.grad = nil }
            return state.grad
        }
    }

    /// Adds `gradient` (of the node's shape, which `GradientWalk.accumulate` checks) to the
    /// accumulated gradient (in place when this node holds the only reference to it), under
    /// the node's lock. A gradient that records its nonzero runs adds only those, and writes
    /// its zeros only when it becomes the accumulated gradient.
    func accumulate(_ gradient: Tensor<Scalar>) {
        state.withLock { state in
            if var existing = state.grad {
                state.grad = nil
                if let runs = gradient.storage.nonzeroRuns {
                    existing.addInPlace(gradient, runs: runs)
                } else {
                    existing.addInPlace(gradient)
                }
                state.grad = existing
            } else {
                gradient.storage.fillZerosOutsideRuns()
                state.grad = gradient.detached()
            }
        }
    }

    /// Drops the saved tensors and input links of an op node after its backward ran, so
    /// the graph is freed node by node instead of by one deep recursive release.
    func release() {
        guard !isLeaf else { return }
        // Move the state out before dropping it, so freeing the inputs (which may free their
        // own nodes) happens outside this node's lock.
        let dropped = state.withLock { state -> State in
            defer { state = State(inputs: [], backward: nil, grad: nil) }
            return state
        }
        _ = dropped
    }
}

/// The global parts of the tape: the sequence counter and the gradient mode.
public enum Tape {
    private static let counter = Atomic<Int>(0)

    /// A fresh, increasing number (thread-safe).
    static func nextSequence() -> Int {
        counter.wrappingAdd(1, ordering: .relaxed).newValue
    }

    @TaskLocal static var isGradEnabled = true

    /// Whether operations record themselves now (false inside `withoutGradient`).
    public static var isRecording: Bool { isGradEnabled }

    /// Runs `body` with recording switched off: no op inside it records anything, so no
    /// graph is built and no memory is kept for backward (PyTorch's `torch.no_grad()`).
    public static func withoutGradient<R>(_ body: () throws -> R) rethrows -> R {
        try $isGradEnabled.withValue(false, operation: body)
    }

    /// Runs `body` with recording switched on again, inside a `withoutGradient` scope
    /// (PyTorch's `torch.enable_grad()`).
    public static func withGradient<R>(_ body: () throws -> R) rethrows -> R {
        try $isGradEnabled.withValue(true, operation: body)
    }
}

/// Runs `body` without recording any operation on the tape (PyTorch's `torch.no_grad()`).
public func withoutGradient<R>(_ body: () throws -> R) rethrows -> R {
    try Tape.withoutGradient(body)
}
