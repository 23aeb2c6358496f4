cwlVersion: v1.2
class: CommandLineTool
baseCommand: ls
inputs:
  groups:
    type: {type: array, items: "File[]"}
outputs: []
