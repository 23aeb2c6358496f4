cwlVersion: v1.2
class: Workflow
requirements:
  ScatterFeatureRequirement: {}
inputs:
  ws: string[]
  ds: Directory[]
outputs: []
steps:
  say:
    run: echo.cwl
    scatter: [word, place]
    in: {word: ws, place: ds}
    out: []
