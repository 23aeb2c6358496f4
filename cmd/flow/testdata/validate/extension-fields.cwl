cwlVersion: v1.2
class: CommandLineTool
$namespaces:
  ex: https://example.org/cwl#
ex:maintainer: someone
baseCommand: echo
inputs:
  word:
    type: string
    ex:note: shown in forms
    inputBinding: {position: 1, ex:width: 10}
outputs: []
