cwlVersion: v1.2
class: Workflow
inputs:
  w: string
  d: Directory
outputs: []
steps:
  say:
    run: echo.cwl
    in:
      place: d
    out: [said]
