cwlVersion: v1.2
class: CommandLineTool
baseCommand: echo
inputs:
  msg:
    type: string
    inputBinding: {position: 1}
stdout: out.txt
outputs:
  out:
    type: string
    outputBinding:
      glob: out.txt
      loadContents: true
      outputEval: $(self[0].contents)
