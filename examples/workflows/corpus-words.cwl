#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: Workflow
label: The most frequent words of a set of documents
doc: |
  Runs the word-frequency subworkflow (count, then sort) on every document
  in parallel, then sums the per-document tables and keeps the top words.

requirements:
  SubworkflowFeatureRequirement: {}
  ScatterFeatureRequirement: {}
  StepInputExpressionRequirement: {}

inputs:
  documents:
    type: File[]
  top:
    type: int
    default: 5

outputs:
  top_words:
    type: File
    outputSource: combine/top_words
  per_document:
    type: File[]
    outputSource: per_document/frequencies

steps:
  per_document:
    run: subworkflows/word-frequency.cwl
    scatter: text
    in:
      text: documents
    out: [frequencies]

  combine:
    run: tools/top-words.cwl
    in:
      tables: per_document/frequencies
      top: top
    out: [top_words]
