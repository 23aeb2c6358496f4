cwlVersion: v1.2
class: Workflow
inputs:
  msg: string
outputs: []
steps:
  - id: say
    run: echo.cwl
    in: {msg: msg}
    out: [out]
  - id: say
    run: echo.cwl
    in: {msg: msg}
    out: [out]
