#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
label: Drop reads that are short or contain an ambiguous base (N)
baseCommand: awk
arguments:
  - -v
  - min=$(inputs.min_length)
  - valueFrom: |
      function flush() { if (h != "" && length(s) >= min && s !~ /[Nn]/) { print h; print s } }
      /^>/ { flush(); h = $0; s = ""; next }
      { s = s $0 }
      END { flush() }

inputs:
  reads:
    type: File
    inputBinding:
      position: 1
  min_length:
    type: int

stdout: filtered.fa
outputs:
  filtered:
    type: stdout
