cwlVersion: v1.2
class: Workflow
inputs:
  msg: string
outputs: []
steps:
  say:
    run: echo.cwl
    in:
      msg: shout/out
    out: [out]
