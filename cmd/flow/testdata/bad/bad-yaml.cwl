cwlVersion: v1.2
class: CommandLineTool
baseCommand: echo
inputs:
  msg: string
   extra: string
outputs: []
