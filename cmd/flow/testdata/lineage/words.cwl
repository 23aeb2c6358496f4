cwlVersion: v1.2
class: Workflow
doc: Three steps from a text file to a count of its distinct words.
inputs:
  text: File
outputs:
  count: {type: File, outputSource: count/out}
steps:
  split:
    run:
      class: CommandLineTool
      baseCommand: [tr, -s, " ", "\n"]
      stdin: $(inputs.text.path)
      inputs: {text: File}
      outputs: {out: stdout}
      stdout: words.txt
    in: {text: text}
    out: [out]
  unique:
    run:
      class: CommandLineTool
      baseCommand: [sort, -u]
      inputs: {words: {type: File, inputBinding: {}}}
      outputs: {out: stdout}
      stdout: unique.txt
    in: {words: split/out}
    out: [out]
  count:
    run:
      class: CommandLineTool
      baseCommand: [wc, -l]
      stdin: $(inputs.words.path)
      inputs: {words: File}
      outputs: {out: stdout}
      stdout: count.txt
    in: {words: unique/out}
    out: [out]
