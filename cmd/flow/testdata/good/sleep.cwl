cwlVersion: v1.2
class: CommandLineTool
doc: Sleeps, so a test can interrupt flow while a job runs.
baseCommand: [sh, -c]
arguments:
  - echo $$ > "$0"; exec sleep 60
inputs:
  pidfile:
    type: string
    inputBinding: {position: 1}
outputs: []
