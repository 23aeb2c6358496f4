cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sh, -c, 'echo "mode $1, names $2 $3"; wc -l < "$0"', ]
inputs:
  reads: {type: File, inputBinding: {position: 1}}
  mode: {type: {type: enum, symbols: [fast, exact]}, inputBinding: {position: 2}}
  names: {type: 'string[]', inputBinding: {position: 3}}
stdout: report.txt
outputs:
  report: {type: stdout}
