cwlVersion: v1.2
class: CommandLineTool
baseCommand: echo
inputs:
  word: string
  count:
    type: int
    default: 1
  loud: boolean?
  place: Directory
outputs:
  said: stdout
