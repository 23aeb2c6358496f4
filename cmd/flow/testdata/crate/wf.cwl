cwlVersion: v1.2
class: Workflow
doc: Two steps whose tools live in their own files, for exporting a run as an RO-Crate and running the crate.
inputs:
  text: File
outputs:
  shout:
    type: File
    outputSource: upper/out
steps:
  upper:
    run: tools/upper.cwl
    in:
      text: text
    out: [out]
