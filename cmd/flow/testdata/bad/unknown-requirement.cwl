cwlVersion: v1.2
class: CommandLineTool
requirements:
  - class: QuantumComputingRequirement
    qubits: 12
baseCommand: echo
inputs: []
outputs: []
