cwlVersion: v1.2
$graph:
  - id: shout
    class: CommandLineTool
    baseCommand: echo
    inputs: {word: string}
    outputs: {said: stdout}
  - id: twice
    class: Workflow
    inputs: {w: string}
    outputs: []
    steps:
      first: {run: "#shout", in: {word: w}, out: [said]}
