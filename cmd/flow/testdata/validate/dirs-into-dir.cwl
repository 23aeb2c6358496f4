cwlVersion: v1.2
class: Workflow
inputs:
  w: string
  ds: Directory[]
outputs: []
steps:
  say:
    run: echo.cwl
    in:
      word: w
      place: ds
    out: []
