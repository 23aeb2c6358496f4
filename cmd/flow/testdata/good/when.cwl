cwlVersion: v1.2
class: Workflow
doc: One step runs, one is skipped by its when, so tests can see both recorded.
requirements:
  InlineJavascriptRequirement: {}
inputs:
  msg: string
outputs:
  said:
    type: File
    outputSource: say/out
  never:
    type: File?
    outputSource: skip/out
steps:
  say:
    run: hello.cwl
    in: {msg: msg}
    out: [out]
  skip:
    run: hello.cwl
    when: $(inputs.msg == "never")
    in: {msg: msg}
    out: [out]
