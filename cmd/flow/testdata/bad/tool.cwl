cwlVersion: v1.2
class: CommandLineTool
doc: A valid tool whose inputs the job-file cases get wrong.
baseCommand: echo
inputs:
  msg:
    type: string
    inputBinding: {position: 1}
  n:
    type: int
    inputBinding: {position: 2}
  reads:
    type: File
    inputBinding: {position: 3}
  mode:
    type:
      type: enum
      symbols: [fast, careful]
    default: fast
    inputBinding: {position: 4}
  refdir:
    type: Directory?
outputs: []
