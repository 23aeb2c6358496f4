cwlVersion: v1.2
class: CommandLineTool
baseCommand: cat
inputs:
  reads:
    type: Fiel
    inputBinding: {position: 1}
outputs: []
