#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
label: Sequence statistics of one FASTA file
doc: |
  Counts the records, the bases and the GC content of a FASTA file and
  writes one tab-separated line: sample, sequences, bases, GC percent.
  The sample name is the file name without its extension.

baseCommand: awk
arguments:
  - -v
  - name=$(inputs.fasta.nameroot)
  - valueFrom: |
      /^>/ { n++; next }
      {
        gsub(/[ \t\r]/, "")
        bases += length($0)
        gc += gsub(/[GCgc]/, "")
      }
      END { printf "%s\t%d\t%d\t%.1f\n", name, n, bases, (bases ? 100 * gc / bases : 0) }

inputs:
  fasta:
    type: File
    doc: sequences in FASTA format
    inputBinding:
      position: 1

stdout: $(inputs.fasta.nameroot).stats.tsv

outputs:
  stats:
    type: stdout
