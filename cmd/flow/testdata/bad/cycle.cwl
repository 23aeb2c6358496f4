cwlVersion: v1.2
class: Workflow
inputs:
  msg: string
outputs: []
steps:
  first:
    run: echo.cwl
    in:
      msg: second/out
    out: [out]
  second:
    run: echo.cwl
    in:
      msg: first/out
    out: [out]
