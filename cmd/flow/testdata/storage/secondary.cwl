cwlVersion: v1.2
class: CommandLineTool
doc: Lists the files staged beside an input and its secondary files, for the remote-input tests.
baseCommand: [sh, -c, 'out=$PWD/staged.txt && cd "$(dirname "$0")" && for f in *; do printf "%s %s\n" "$f" "$(cat "$f")"; done > "$out"']
inputs:
  bam:
    type: File
    inputBinding: {position: 1}
    secondaryFiles: [.bai, ^.fai, {pattern: .idx, required: false}]
outputs:
  staged: {type: File, outputBinding: {glob: staged.txt}}
