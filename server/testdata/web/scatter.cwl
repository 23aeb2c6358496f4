cwlVersion: v1.2
class: Workflow
doc: Greets every sample (a scatter), then gathers the greetings.
requirements: {ScatterFeatureRequirement: {}}
inputs:
  samples: string[]
outputs:
  summary: {type: File, outputSource: gather/out}
steps:
  greet:
    run: greet.cwl
    scatter: name
    in: {name: samples}
    out: [out]
  gather:
    run: gather.cwl
    in: {files: greet/out}
    out: [out]
