cwlVersion: v1.2
class: ExpressionTool
doc: Returns its input object, so tests can see what flow passed in.
requirements:
  InlineJavascriptRequirement: {}
inputs:
  name: string
  count:
    type: int
    default: 1
  loud:
    type: boolean
    default: false
  names: string[]?
  ratio: double?
  mode:
    type:
      - "null"
      - type: enum
        symbols: [fast, careful]
  reads: File?
outputs:
  echoed: Any
expression: '$({"echoed": inputs})'
