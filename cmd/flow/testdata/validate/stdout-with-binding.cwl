cwlVersion: v1.2
class: CommandLineTool
baseCommand: date
inputs: []
outputs:
  now:
    type: stdout
    outputBinding:
      glob: now.txt
