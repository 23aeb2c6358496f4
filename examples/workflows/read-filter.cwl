#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: Workflow
label: Filter reads strictly or leniently, chosen by an input
doc: |
  With strict: true, reads that contain an ambiguous base (N) are dropped;
  otherwise they are trimmed at their first N. Either way reads shorter
  than min_length go. Exactly one of the two filter steps runs (`when`),
  and the next step takes whichever output exists (pickValue).

requirements:
  InlineJavascriptRequirement: {}
  MultipleInputFeatureRequirement: {}

inputs:
  reads: File
  strict:
    type: boolean
    default: true
  min_length:
    type: int
    default: 10

outputs:
  filtered:
    type: File
    outputSource: [drop_ambiguous/filtered, trim_at_n/filtered]
    pickValue: the_only_non_null
  summary:
    type: File
    outputSource: count/summary

steps:
  drop_ambiguous:
    run: tools/drop-ambiguous.cwl
    when: $(inputs.strict)
    in:
      reads: reads
      min_length: min_length
      strict: strict
    out: [filtered]

  trim_at_n:
    run: tools/trim-at-n.cwl
    when: $(!inputs.strict)
    in:
      reads: reads
      min_length: min_length
      strict: strict
    out: [filtered]

  count:
    run: tools/count-reads.cwl
    in:
      reads:
        source: [drop_ambiguous/filtered, trim_at_n/filtered]
        pickValue: the_only_non_null
    out: [summary]
