#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
label: Trim each read at its first ambiguous base (N), keep the long ones
baseCommand: [python3, -c]
arguments:
  - valueFrom: |
      import sys
      path, min_length = sys.argv[1], int(sys.argv[2])
      def emit(header, seq):
          seq = seq.split("N")[0]
          if header and len(seq) >= min_length:
              print(header)
              print(seq)
      header, seq = None, ""
      for line in open(path):
          line = line.strip()
          if line.startswith(">"):
              emit(header, seq)
              header, seq = line, ""
          else:
              seq += line.upper()
      emit(header, seq)
    position: 0

inputs:
  reads:
    type: File
    inputBinding:
      position: 1
  min_length:
    type: int
    inputBinding:
      position: 2

stdout: filtered.fa
outputs:
  filtered:
    type: stdout
