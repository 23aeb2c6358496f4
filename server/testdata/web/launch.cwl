cwlVersion: v1.2
class: Workflow
label: Count a sample's lines
doc: Counts the lines of the reads file, with the mode and names given.
inputs:
  reads:
    type: File
    doc: the sample's reads
  mode:
    type: {type: enum, symbols: [fast, exact]}
    doc: how hard to count
  names:
    type: string[]
  threads:
    type: int
    default: 2
outputs:
  report:
    type: File
    outputSource: count/report
steps:
  count:
    run: count.cwl
    in: {reads: reads, mode: mode, names: names}
    out: [report]
