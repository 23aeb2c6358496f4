cwlVersion: v1.2
class: Workflow
inputs:
  msg: string
outputs: []
steps:
  say:
    run: no-such-tool.cwl
    in:
      msg: msg
    out: [out]
