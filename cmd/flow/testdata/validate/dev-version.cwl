cwlVersion: v1.2.0-dev5
class: CommandLineTool
baseCommand: date
inputs: []
outputs: []
