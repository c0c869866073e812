// The whole recurrence of one layer and direction as one op on the tape: a captured step
// program replayed over the packed rows. Two tape nodes share its backward, as for the fused
// recurrence: the final states' node runs backpropagation through time, and the output's
// node, recorded after it, hands its gradient over.

/// Runs `program` (captured from a cell whose `parameters()` are `parameters`) over the
/// packed rows `data` `[rows, inputSize]` of `batchSizes`, starting from `start` (each
/// `[batch, width]`, packed order); `reversed` runs each sequence from its last step back.
/// Returns the packed output `[rows, outputWidth]` and the final states in packed order.
func capturedSequence<Scalar>(_ program: StepProgram<Scalar>, parameters: [Tensor<Scalar>], data: Tensor<Scalar>,
                              batchSizes: [Int], batch: Int, reversed: Bool, start: [Tensor<Scalar>])
    -> (output: Tensor<Scalar>, states: [Tensor<Scalar>]) {
    let inputs = [data] + start + parameters
    let run = StepProgramRun(program: program, parameters: parameters, data: data, batchSizes: batchSizes, reversed: reversed, batch: batch,
                             keepsAllRows: Tensor.shouldRecord(inputs))
    run.forward(start: start)
    let outputValue = run.output()
    let statesValue = run.finalStates(start: start)
    let outputGradient = PendingGradient<Scalar>()
    let states = statesValue.recorded("recurrence(captured step)", inputs: inputs) {
        let needsData = data.requiresGrad, needsStart = start.map(\.requiresGrad), needsParameters = parameters.map(\.requiresGrad)
        return { g in
            let grads = run.backward(outputGradient: outputGradient.take(), finalGradient: g, needsData: needsData,
                                     needsParameters: needsParameters)
            let dStart: [Tensor<Scalar>?] = zip(grads.start, needsStart).map { $1 ? $0 : nil }
            return [grads.data] + dStart + grads.parameters
        }
    }
    let output = outputValue.recorded("recurrence(captured step).output", inputs: [states]) {
        let shape = statesValue.shape
        return { g in
            outputGradient.store(g)
            return [Tensor.zeros(shape)]
        }
    }
    var finals: [Tensor<Scalar>] = []
    var offset = 0
    for s in 0..<program.stateCount {
        let width = program.widths[1 + s]
        finals.append(states.narrow(dim: 0, start: offset, length: batch * width).reshaped([batch, width]))
        offset += batch * width
    }
    return (output, finals)
}
