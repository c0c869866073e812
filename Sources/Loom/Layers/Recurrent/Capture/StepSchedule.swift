// The order in which a replay runs one step's instructions, and which of them it runs
// together. Two rewrites, both giving the same bits as running the instructions one by one:
//
// - `q + linear(x)` (a product with no bias, read by nothing but this sum, over a shared
//   dimension the gemm sums in one block) becomes the product accumulated into `q`'s rows,
//   when nothing else reads `q`: the sum then shares `q`'s memory. The gemm adds each sum of
//   products to what `C` holds, so `q + Σ` is computed exactly as the separate sum computes
//   it. This is how `x·W_ihᵀ + h·W_hhᵀ` runs: one product into the hoisted input projection.
// - Consecutive elementwise instructions of one width (functions, `+ - * /`, scaling, and the
//   column slices they read) form a chain that runs a block of rows at a time: every
//   instruction of the chain goes over the block before the next block starts, values used
//   only inside the chain stay in a small scratch block, and a slice read only inside the
//   chain is read in place (no copy). Only values something else reads are written out.

/// How a replay runs the instructions of a captured step.
struct StepSchedule {
    /// Where a register of a chain lives while the chain runs.
    enum Location: Equatable {
        /// Its own rows (`StepProgramRun`'s buffer for it).
        case memory
        /// Columns `column...` of another register's rows, read in place.
        case view(register: Int, column: Int)
        /// Temporary block `index` of the chain's scratch (`blockRows` rows of the chain's width).
        case temporary(Int)
    }

    /// Elementwise instructions of one width run a block of rows at a time.
    struct Chain {
        /// The width of every register the chain defines.
        let width: Int
        /// The instructions, in program order.
        let instructions: [Int]
        /// Per register of the program (`.memory` for those the chain does not define).
        let locations: [Location]
        /// The scratch blocks the chain's private values take.
        let temporaryCount: Int
        /// The rows of a block.
        let blockRows: Int
    }

    /// One piece of a step's work.
    enum Item {
        /// An instruction run by itself over the step's rows.
        case instruction(Int)
        /// The product `linear` (no bias) added into the rows of register `into`; the sum's
        /// register shares `into`'s memory.
        case accumulatedProduct(linear: Int, into: Int)
        /// Elementwise instructions run together, a block of rows at a time.
        case chain(Chain)
    }

    /// The per-step work, in order.
    let stepItems: [Item]
    /// Per register, the register whose memory it shares (itself for most).
    let sharedValues: [Int]

    /// The scalars of the largest chain scratch.
    var scratchCount: Int {
        stepItems.reduce(0) { size, item in
            guard case .chain(let chain) = item else { return size }
            return Swift.max(size, chain.temporaryCount * chain.blockRows * chain.width)
        }
    }

    /// The elements a chain's block holds per register (a few KB, so a chain's temporaries
    /// stay in the level-1 cache).
    static let blockElements = 1024

    /// The schedule of `program`'s per-step instructions. `keepsAllRows`: backward will read
    /// the values of `valuesReadByBackward` registers, so chains write them out. `ring`: per
    /// register, whether it lives in alternating step blocks rather than all rows.
    init<Scalar>(_ program: StepProgram<Scalar>, keepsAllRows: Bool, ring: [Bool]) {
        let registerCount = program.widths.count
        let first = program.firstComputedRegister
        let readers = program.liveReaders
        let crossesSteps = Set([program.outputRegister] + program.stateOutputRegisters)
        func onlyReader(_ r: Int, is i: Int) -> Bool { readers[r] == [i] && !crossesSteps.contains(r) }

        // Sums of a product and a value nothing else reads.
        var shared = Array(0..<registerCount)
        var absorbed: [Int: (linear: Int, into: Int)] = [:]
        var skipped = Set<Int>()
        for (i, instruction) in program.instructions.enumerated() where program.runs(i, hoisted: false) {
            guard case .binary(.add, .register(let a), .register(let b)) = instruction, a != b else { continue }
            let sum = program.register(ofInstruction: i)
            guard sum != program.outputRegister else { continue }
            for (product, other) in [(b, a), (a, b)] {
                guard product >= first, other >= first, !program.hoisted[product],
                      case .linear(let input, _, nil) = program.instructions[product - first],
                      Kernels.gemmDepthBlock(program.widths[input], Scalar.self) >= program.widths[input],
                      onlyReader(product, is: i), onlyReader(other, is: i),
                      !program.valuesReadByBackward[other],
                      // The sum's values must last as long as backward needs them.
                      !(keepsAllRows && program.valuesReadByBackward[sum] && ring[other])
                else { continue }
                absorbed[i] = (product - first, other)
                skipped.insert(product - first)
                shared[sum] = other
                break
            }
        }

        // Where each register a chain defines lives.
        func chain(_ instructions: [Int]) -> Chain {
            let width = program.widths[program.register(ofInstruction: instructions[0])]
            let members = Set(instructions.map { program.register(ofInstruction: $0) })
            var locations = [Location](repeating: .memory, count: registerCount)
            var temporaries = 0
            for i in instructions {
                let r = program.register(ofInstruction: i)
                let readOutside = crossesSteps.contains(r) || readers[r].contains { !members.contains(program.register(ofInstruction: $0)) }
                    || (keepsAllRows && program.valuesReadByBackward[r])
                if readOutside { continue }
                if case .narrow(let input, let column) = program.instructions[i] {
                    locations[r] = .view(register: input, column: column)
                } else {
                    locations[r] = .temporary(temporaries)
                    temporaries += 1
                }
            }
            return Chain(width: width, instructions: instructions, locations: locations, temporaryCount: temporaries,
                         blockRows: Swift.max(1, StepSchedule.blockElements / Swift.max(width, 1)))
        }

        var items: [Item] = []
        var pending: [Int] = []
        func flush() {
            if pending.count > 1 { items.append(.chain(chain(pending))) } else if let i = pending.first { items.append(.instruction(i)) }
            pending = []
        }
        for (i, instruction) in program.instructions.enumerated() where program.runs(i, hoisted: false) && !skipped.contains(i) {
            if let (linear, into) = absorbed[i] {
                flush()
                items.append(.accumulatedProduct(linear: linear, into: into))
                continue
            }
            let width = program.widths[program.register(ofInstruction: i)]
            switch instruction {
            case .unary, .binary, .scale, .narrow:
                if let last = pending.last, program.widths[program.register(ofInstruction: last)] != width { flush() }
                if case .narrow(let input, _) = instruction, pending.contains(where: { program.register(ofInstruction: $0) == input }) {
                    flush()
                }
                pending.append(i)
            case .linear, .concatenate, .layerNorm:
                flush()
                items.append(.instruction(i))
            }
        }
        flush()
        stepItems = items
        sharedValues = shared
    }
}
