cwlVersion: v1.2
class: Workflow
doc: A run whose step names, file names and logs are markup and script.
requirements: {ScatterFeatureRequirement: {}}
inputs:
  samples: string[]
outputs:
  "<img src=x onerror=window.flowPwned=1>":
    type: File
    outputSource: "javascript:window.flowPwned=2/out"
  greetings:
    type: File[]
    outputSource: "<img src=x onerror=window.flowPwned=1>/out"
steps:
  "<img src=x onerror=window.flowPwned=1>":
    run: greet.cwl
    scatter: name
    in: {name: samples}
    out: [out]
  "javascript:window.flowPwned=2":
    run: gather.cwl
    in: {files: "<img src=x onerror=window.flowPwned=1>/out"}
    out: [out]
  "<script>window.flowPwned=7<\\x2fscript>":
    run:
      class: CommandLineTool
      baseCommand: [sh, -c, 'echo "<script>window.flowPwned=7</script> <a href=\"javascript:window.flowPwned=8\">x</a> \"><img src=x onerror=window.flowPwned=9>" >&2']
      inputs: []
      outputs: []
    in: {}
    out: []
