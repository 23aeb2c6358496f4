cwlVersion: v1.2
class: Workflow
inputs:
  d: Directory
outputs: []
steps:
  say:
    run: echo.cwl
    in:
      place: d
      word: {}
    out: [said]
