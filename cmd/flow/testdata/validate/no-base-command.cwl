cwlVersion: v1.2
class: CommandLineTool
inputs:
  program:
    type: string
    inputBinding: {position: 0}
  word:
    type: string
    inputBinding: {position: 1}
outputs: []
