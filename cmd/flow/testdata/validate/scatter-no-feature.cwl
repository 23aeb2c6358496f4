cwlVersion: v1.2
class: Workflow
inputs:
  ws: string[]
  d: Directory
outputs: []
steps:
  say:
    run: echo.cwl
    scatter: word
    in: {word: ws, place: d}
    out: []
