#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
label: Sum word counts over several tables and keep the most frequent
baseCommand: [python3, -c]
arguments:
  - position: 0
    valueFrom: |
      import sys
      top, paths = int(sys.argv[1]), sys.argv[2:]
      totals = {}
      for path in paths:
          for line in open(path):
              count, word = line.rstrip("\n").split("\t")
              totals[word] = totals.get(word, 0) + int(count)
      ranked = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
      for word, count in ranked[:top]:
          print(f"{word}\t{count}\t{len(paths)} documents")
inputs:
  top:
    type: int
    inputBinding:
      position: 1
  tables:
    type: File[]
    inputBinding:
      position: 2
stdout: top-words.tsv
outputs:
  top_words:
    type: stdout
