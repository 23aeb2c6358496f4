cwlVersion: v1.2
class: Workflow
doc: a -> b -> c, and d on its own; b's tool is edited by a test.
inputs: {counter: string}
outputs:
  c: {type: File, outputSource: c/out}
  d: {type: File, outputSource: d/out}
steps:
  a: {run: step.cwl, in: {counter: counter, name: {default: a}}, out: [out]}
  b: {run: step-b.cwl, in: {counter: counter, name: {default: b}, after: a/out}, out: [out]}
  c: {run: step.cwl, in: {counter: counter, name: {default: c}, after: b/out}, out: [out]}
  d: {run: step.cwl, in: {counter: counter, name: {default: d}}, out: [out]}
