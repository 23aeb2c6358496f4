cwlVersion: v1.2
class: CommandLineTool
baseCommand: ls
inputs:
  groups: "File[][]"
outputs: []
