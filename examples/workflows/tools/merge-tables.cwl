#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
label: Concatenate tables under one header line
baseCommand: awk
arguments:
  - -v
  - header=$(inputs.header)
  - valueFrom: 'BEGIN { print header } { print }'

inputs:
  header:
    type: string
    doc: the header line, with tab-separated column names
  name:
    type: string
    default: merged.tsv
    doc: the name of the merged table
  tables:
    type: File[]
    inputBinding:
      position: 1

stdout: $(inputs.name)
outputs:
  merged:
    type: stdout
