cwlVersion: v1.2
class: Workflow
inputs:
  w: string
  d: Directory
outputs: []
steps:
  inner:
    run: inner.cwl
    in: {w: w, d: d}
    out: []
