#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: Workflow
label: Per-sample FASTA statistics, merged into one report
doc: |
  Scatters the seqstats tool over every FASTA file (one job per file, run
  in parallel), then merges the per-sample lines into a single
  tab-separated report with a header, in the order the samples were given.

requirements:
  ScatterFeatureRequirement: {}

inputs:
  sequences:
    type: File[]
    doc: one FASTA file per sample
  report_name:
    type: string
    default: report.tsv

outputs:
  report:
    type: File
    outputSource: merge/merged
  per_sample:
    type: File[]
    outputSource: stats/stats

steps:
  stats:
    run: tools/seqstats.cwl
    scatter: fasta
    in:
      fasta: sequences
    out: [stats]

  merge:
    run: tools/merge-tables.cwl
    in:
      tables: stats/stats
      name: report_name
      header:
        default: "sample\tsequences\tbases\tgc_percent"
    out: [merged]
