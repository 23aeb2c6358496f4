cwlVersion: v1.2
class: Workflow
doc: Six independent slow steps, then one that reads them all.
requirements: {MultipleInputFeatureRequirement: {}, InlineJavascriptRequirement: {}, StepInputExpressionRequirement: {}}
inputs: {counter: string, delay: {type: string, default: "0"}}
outputs:
  all: {type: File, outputSource: last/out}
steps:
  s1: {run: step.cwl, in: {counter: counter, delay: delay, name: {default: s1}}, out: [out]}
  s2: {run: step.cwl, in: {counter: counter, delay: delay, name: {default: s2}}, out: [out]}
  s3: {run: step.cwl, in: {counter: counter, delay: delay, name: {default: s3}}, out: [out]}
  s4: {run: step.cwl, in: {counter: counter, delay: delay, name: {default: s4}}, out: [out]}
  s5: {run: step.cwl, in: {counter: counter, delay: delay, name: {default: s5}}, out: [out]}
  s6: {run: step.cwl, in: {counter: counter, delay: delay, name: {default: s6}}, out: [out]}
  last:
    run: step.cwl
    in:
      counter: counter
      name: {default: last}
      parts: [s1/out, s2/out, s3/out, s4/out, s5/out, s6/out]
      after: {source: s6/out}
    out: [out]
