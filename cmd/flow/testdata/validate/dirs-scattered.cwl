cwlVersion: v1.2
class: Workflow
requirements:
  ScatterFeatureRequirement: {}
  MultipleInputFeatureRequirement: {}
inputs:
  w: string
  ds: Directory[]
  extra: Directory
outputs:
  all:
    type: File[]
    outputSource: say/said
  dirs:
    type: Directory[]
    outputSource: [ds, extra]
    linkMerge: merge_flattened
steps:
  say:
    run: echo.cwl
    scatter: place
    in:
      word: w
      place: ds
    out: [said]
