#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
label: Count the words of a text, case-insensitively (unsorted)
baseCommand: awk
arguments:
  - valueFrom: |
      {
        for (i = 1; i <= NF; i++) {
          w = tolower($i)
          gsub(/[^a-z]/, "", w)
          if (w != "") c[w]++
        }
      }
      END { for (w in c) print c[w] "\t" w }
inputs:
  text:
    type: File
    inputBinding:
      position: 1
stdout: counts.tsv
outputs:
  counts:
    type: stdout
