import Testing
@testable import Loom

/// The tape frees itself: nothing from one training iteration survives into the next.
@Suite struct MemoryTests {
    @Test func graphIsFreedAfterEveryIterationForThousandsOfIterations() {
        var rng = RandomGenerator(seed: 7)
        var w = Tensor<Float>.randn([8, 8], using: &rng).requiringGrad()
        let x = Tensor<Float>.randn([4, 8], using: &rng)
        var firstSurvivor: Int? = nil
        for iteration in 0..<3000 {
            weak var rootNode: GradNode<Float>?
            weak var rootStorage: TensorStorage<Float>?
            do {
                var h = x
                for _ in 0..<5 { h = (h.matmul(w)).tanh() }
                let loss = (h * h).mean()
                rootNode = loss.node
                rootStorage = h.storage
                loss.backward()
            }
            if (rootNode != nil || rootStorage != nil) && firstSurvivor == nil { firstSurvivor = iteration }
            // An in-place update of the leaf keeps its identity and its gradient slot.
            let grad = w.grad!
            w.withUnsafeMutableBufferPointer { p in
                grad.withUnsafeBufferPointer { g in for i in p.indices { p[i] -= 0.01 * g[i] } }
            }
            w.zeroGrad()
        }
        #expect(firstSurvivor == nil, "graph of iteration \(firstSurvivor ?? -1) was not freed")
        #expect(w.requiresGrad && w.isLeaf)
    }

    @Test func graphWithoutBackwardIsFreedWhenDropped() {
        weak var node: GradNode<Double>?
        do {
            let a = Tensor<Double>([1, 2, 3]).requiringGrad()
            var y = a
            for _ in 0..<10_000 { y = y * 1.0001 }
            node = y.node
            #expect(node != nil)
        }
        #expect(node == nil)
    }

    @Test func noGradientModeBuildsNoGraph() {
        let a = Tensor<Double>([1, 2, 3]).requiringGrad()
        let y = withoutGradient { (a * a).exp().sum() }
        #expect(y.node == nil)
    }
}
