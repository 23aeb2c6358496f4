cwlVersion: v1.2
class: CommandLineTool
baseCommand: echo
inputs:
  - id: msg
    type: string
  - id: msg
    type: int
outputs: []
