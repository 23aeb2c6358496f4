class: CommandLineTool
baseCommand: echo
inputs: []
outputs: []
