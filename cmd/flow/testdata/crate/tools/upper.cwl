cwlVersion: v1.2
class: CommandLineTool
baseCommand: [tr, a-z, A-Z]
inputs:
  text: File
stdin: $(inputs.text.path)
stdout: shout.txt
outputs:
  out: stdout
