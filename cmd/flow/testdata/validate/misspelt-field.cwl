cwlVersion: v1.2
class: CommandLineTool
baseCommand: echo
inputs:
  word:
    type: string
    inputbinding: {position: 1}
outputs: []
