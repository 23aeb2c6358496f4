cwlVersion: v1.2
class: Workflow
inputs:
  msg: string
outputs: []
steps:
  say:
    in:
      msg: msg
    out: [out]
