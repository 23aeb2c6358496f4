#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
label: Count the reads and bases of a FASTA file
baseCommand: awk
arguments:
  - valueFrom: '/^>/ { n++; next } { b += length($0) } END { printf "%d reads, %d bases\n", n, b }'
inputs:
  reads:
    type: File
    inputBinding:
      position: 1
stdout: summary.txt
outputs:
  summary:
    type: stdout
