cwlVersion: v1.2
class: Workflow
inputs: []
outputs: []
steps: 5
