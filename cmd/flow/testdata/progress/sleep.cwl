cwlVersion: v1.2
class: Workflow
requirements: {ScatterFeatureRequirement: {}, InlineJavascriptRequirement: {}, StepInputExpressionRequirement: {}}
inputs:
  n: {type: int, default: 60}
  secs: {type: int, default: 2}
outputs:
  done: {type: 'File[]', outputSource: sleep/out}
steps:
  count:
    in: {n: n}
    out: [items]
    run:
      class: ExpressionTool
      inputs: {n: int}
      outputs: {items: 'int[]'}
      expression: '$({items: Array.from({length: inputs.n}, (_, i) => i)})'
  sleep:
    in: {i: count/items, secs: secs}
    scatter: i
    out: [out]
    run:
      class: CommandLineTool
      baseCommand: sleep
      inputs:
        i: int
        secs: {type: int, inputBinding: {position: 1}}
      stdout: out.txt
      outputs: {out: stdout}
  never:
    in: {n: n}
    when: $(inputs.n < 0)
    out: [x]
    run:
      class: ExpressionTool
      inputs: {n: int}
      outputs: {x: int}
      expression: '$({x: 1})'
