cwlVersion: v1.2
class: CommandLineTool
baseCommand: cat
inputs:
  notes: {type: File?, doc: "read when given", inputBinding: {position: 1}}
  tags: {type: "string[]?", doc: plain}
outputs: []
