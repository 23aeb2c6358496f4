cwlVersion: v1.2
class: CommandLineTool
doc: Counts the bytes of a File and lists a Directory, for the remote-input tests.
baseCommand: [sh, -c, 'wc -c < "$0" > count.txt && (cd "$1" && find . -type f | sort) > listing.txt']
inputs:
  reads: {type: File, inputBinding: {position: 1}}
  samples: {type: Directory, inputBinding: {position: 2}}
outputs:
  count: {type: File, outputBinding: {glob: count.txt}}
  listing: {type: File, outputBinding: {glob: listing.txt}}
