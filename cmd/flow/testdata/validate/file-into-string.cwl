cwlVersion: v1.2
class: Workflow
inputs:
  f: File
  d: Directory
outputs: []
steps:
  say:
    run: echo.cwl
    in:
      word:
        source: f
      place: d
    out: []
