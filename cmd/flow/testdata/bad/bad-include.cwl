cwlVersion: v1.2
class: CommandLineTool
baseCommand: echo
arguments:
  - valueFrom:
      $include: no-such-script.txt
inputs: []
outputs: []
