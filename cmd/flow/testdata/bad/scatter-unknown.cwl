cwlVersion: v1.2
class: Workflow
requirements:
  ScatterFeatureRequirement: {}
inputs:
  msgs:
    type: string[]
    default: [a, b]
outputs: []
steps:
  say:
    run: echo.cwl
    scatter: message
    in:
      msg: msgs
    out: [out]
