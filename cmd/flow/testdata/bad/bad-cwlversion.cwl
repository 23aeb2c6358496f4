cwlVersion: v0.9
class: CommandLineTool
baseCommand: echo
inputs: []
outputs: []
