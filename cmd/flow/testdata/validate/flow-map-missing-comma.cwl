cwlVersion: v1.2
class: CommandLineTool
baseCommand: date
inputs:
  zone: {type: string inputBinding: {prefix: -u}}
outputs: []
