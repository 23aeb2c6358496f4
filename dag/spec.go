package dag

// Spec is what Build needs to know about a workflow: ids and sources only.
// Build does not keep references to the caller's slices.
type Spec struct {
	Inputs  []string // workflow input ids, e.g. "reads" or "sample/reads"
	Steps   []Step
	Outputs []Output
}

// Step is one workflow step as the graph sees it.
type Step struct {
	ID      string   // short step id, e.g. "align"; never contains "/"
	Outputs []string // the step's output ids, e.g. ["bam", "log"]
	Sources []string // every source it reads: "wfinput" or "otherstep/output"
}

// Output is one workflow output and the sources it is made from.
type Output struct {
	ID      string
	Sources []string
}
