import Testing
@testable import Loom

@Suite struct DropoutTests {
    @Test func sameSeedGivesTheSameMask() {
        let x = Tensor<Double>.ones([500])
        var first = RandomGenerator(seed: 5), second = RandomGenerator(seed: 5)
        let a = x.dropout(p: 0.5, using: &first)
        let b = x.dropout(p: 0.5, using: &second)
        #expect(a.scalars == b.scalars)
    }

    @Test func differentSeedsGiveDifferentMasks() {
        let x = Tensor<Double>.ones([500])
        var first = RandomGenerator(seed: 5), second = RandomGenerator(seed: 6)
        #expect(x.dropout(p: 0.5, using: &first).scalars != x.dropout(p: 0.5, using: &second).scalars)
        // Consecutive masks from one generator differ too.
        #expect(x.dropout(p: 0.5, using: &first).scalars != x.dropout(p: 0.5, using: &first).scalars)
    }

    @Test func oneDrawPerElementInRowMajorOrder() {
        let x = Tensor<Double>.arange(1, 25).reshaped([4, 6])
        var generator = RandomGenerator(seed: 9)
        var replay = generator
        let y = x.dropout(p: 0.3, using: &generator)
        for i in 0..<x.count {
            let kept = replay.nextUnit() >= 0.3
            #expect((y.scalars[i] != 0) == kept, "element \(i)")
        }
        #expect(generator.next() == replay.next(), "dropout must take exactly one draw per element")
    }

    @Test func notTrainingOrZeroProbabilityIsIdentity() {
        let x = Tensor<Double>([[1, -2, 3], [4, 5, -6]]).requiringGrad()
        var generator = RandomGenerator(seed: 1)
        let untouched = generator
        #expect(x.dropout(p: 0.5, training: false, using: &generator).scalars == x.scalars)
        #expect(x.dropout(p: 0, using: &generator).scalars == x.scalars)
        #expect(x.dropout(p: 0.7, training: false).scalars == x.scalars)
        var reference = untouched
        #expect(generator.next() == reference.next(), "identity dropout must not draw")
    }

    @Test func probabilityOneGivesZeros() {
        var generator = RandomGenerator(seed: 2)
        let x = Tensor<Double>([1, 2, 3]).requiringGrad()
        let y = x.dropout(p: 1, using: &generator)
        #expect(y.scalars == [0, 0, 0])
        y.sum().backward()
        #expect(x.grad!.scalars == [0, 0, 0])
    }

    @Test func keptValuesAreScaledByOneOverKeepProbability() {
        let x = Tensor<Double>.arange(1, 201)
        var generator = RandomGenerator(seed: 3)
        let half = x.dropout(p: 0.5, using: &generator)
        var kept = 0
        for (input, output) in zip(x.scalars, half.scalars) where output != 0 {
            kept += 1
            #expect(output == input * 2)
        }
        #expect(kept > 0 && kept < x.count)
        let p = 0.3
        let y = x.dropout(p: p, using: &generator)
        for (input, output) in zip(x.scalars, y.scalars) where output != 0 {
            let expected = input / (1 - p)
            #expect(Swift.abs(output - expected) <= 4 * expected.ulp, "\(output) vs \(expected)")
        }
        var floatGenerator = RandomGenerator(seed: 3)
        let floats = Tensor<Float>.arange(1, 201).dropout(p: 0.75, using: &floatGenerator)
        for (input, output) in zip(Tensor<Float>.arange(1, 201).scalars, floats.scalars) where output != 0 {
            #expect(output == input * 4)
        }
    }

    @Test func fractionKeptIsAboutOneMinusP() {
        let n = 100_000
        let x = Tensor<Float>.ones([n])
        var generator = RandomGenerator(seed: 4)
        for p in [0.1, 0.3, 0.8] {
            let kept = x.dropout(p: p, using: &generator).scalars.filter { $0 != 0 }.count
            // The kept count is Binomial(n, 1 - p): its standard deviation is below 160, so
            // 0.01 * n is more than six standard deviations.
            #expect(Swift.abs(Double(kept) / Double(n) - (1 - p)) < 0.01, "p \(p): kept \(kept) of \(n)")
        }
    }

    @Test func gradientIsTheScaledMask() {
        let x = Tensor<Double>.ones([5, 8]).requiringGrad()
        var generator = RandomGenerator(seed: 7)
        let y = x.dropout(p: 0.25, using: &generator)
        y.sum().backward()
        // With x all ones, the output is the scaled mask itself.
        #expect(x.grad!.scalars == y.scalars)
        #expect(Set(y.scalars).isSubset(of: [0, 1 / 0.75]))
        let upstream = Tensor<Double>.arange(0, 40).reshaped([5, 8])
        let z = Tensor<Double>([[2]]).expanded(to: [5, 8]).requiringGrad()
        var replay = RandomGenerator(seed: 7)
        let w = z.dropout(p: 0.25, using: &replay)
        w.backward(upstream)
        #expect(z.grad!.scalars == zip(upstream.scalars, y.scalars).map { $0 * $1 })
    }

    @Test func globalGeneratorOverloadScalesOrDrops() {
        let x = Tensor<Double>.arange(1, 101)
        let y = x.dropout(p: 0.5)
        for (input, output) in zip(x.scalars, y.scalars) {
            #expect(output == 0 || output == input * 2)
        }
    }
}
