cwlVersion: v1.2
class: CommandLineTool
baseCommand: echo
inputs: 42
outputs: []
