cwlVersion: v1.2
class: CommandLineTool
baseCommand: echo
inputs:
  word:
    type: string
    inputBinding:
outputs:
  said:
    type: string
    outputBinding:
