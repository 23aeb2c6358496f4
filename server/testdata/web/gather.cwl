cwlVersion: v1.2
class: CommandLineTool
baseCommand: [cat]
inputs:
  files: {type: 'File[]', inputBinding: {position: 1}}
stdout: summary.txt
outputs:
  out: {type: stdout}
