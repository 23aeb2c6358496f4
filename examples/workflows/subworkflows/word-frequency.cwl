#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: Workflow
label: Word frequencies of one text, most frequent first
requirements:
  StepInputExpressionRequirement: {}
inputs:
  text: File
outputs:
  frequencies:
    type: File
    outputSource: sort/sorted
steps:
  count:
    run: ../tools/count-words.cwl
    in:
      text: text
    out: [counts]
  sort:
    run: ../tools/sort-counts.cwl
    in:
      counts: count/counts
      name:
        source: text
        valueFrom: $(self.nameroot).words.tsv
    out: [sorted]
