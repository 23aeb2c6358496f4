cwlVersion: v1.2
class: Workflow
requirements:
  MultipleInputFeatureRequirement: {}
inputs:
  a: File[]
  b: File[]
outputs:
  all:
    type: File[]
    outputSource: [a, b]
    linkMerge: merge_flatened
steps: []
