cwlVersion: v1.2
class: CommandLineTool
doc: Appends its name to a counter file (so tests can see it ran), then writes it.
baseCommand: [sh, -c, 'sleep "$0"; echo "$1" >> "$2"; cat "$3" > out.txt 2>/dev/null; echo "$1" >> out.txt']
inputs:
  delay: {type: string, default: "0", inputBinding: {position: 1}}
  name: {type: string, inputBinding: {position: 2}}
  counter: {type: string, inputBinding: {position: 3}}
  after: {type: "File?", inputBinding: {position: 4}}
outputs:
  out: {type: File, outputBinding: {glob: out.txt}}
