#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
label: Sort a count table, most frequent first, ties alphabetically
requirements:
  EnvVarRequirement:
    envDef:
      LC_ALL: C  # the same order on every machine
baseCommand: sort
arguments: ["-t", "\t", "-k1,1nr", "-k2,2"]
inputs:
  counts:
    type: File
    inputBinding:
      position: 1
  name:
    type: string
stdout: $(inputs.name)
outputs:
  sorted:
    type: stdout
