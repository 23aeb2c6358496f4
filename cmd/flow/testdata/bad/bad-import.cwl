cwlVersion: v1.2
class: CommandLineTool
baseCommand: echo
inputs:
  $import: no-such-inputs.yml
outputs: []
