cwlVersion: v1.2
class: CommandLineTool
requirements:
  InlineJavascriptRequirement: {}
baseCommand: echo
arguments:
  - valueFrom: ${ return 1 + ; }
inputs: []
outputs: []
