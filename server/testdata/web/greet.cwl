cwlVersion: v1.2
class: CommandLineTool
doc: Greets a sample on stderr and writes a file named after it.
baseCommand: [sh, -c, 'echo "greeting $0" >&2; echo "hello $0" > "$0.txt"']
inputs:
  name: {type: string, inputBinding: {position: 1}}
outputs:
  out: {type: File, outputBinding: {glob: $(inputs.name).txt}}
