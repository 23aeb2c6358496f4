cwlVersion: v1.2
class: Workflow
inputs:
  msg: string
outputs:
  result:
    type: string
    outputSource: say/nothing
steps:
  say:
    run: echo.cwl
    in:
      msg: msg
    out: [out]
