package dag

import (
	"github.com/dominikbraun/graph"
)

// Graph is a workflow's resolved step graph. It is immutable once Build
// returns it, and safe for concurrent use.
type Graph struct {
	inputs  []string
	steps   []stepInfo     // in declaration order
	outputs []Output       // in declaration order
	index   map[string]int // step id -> position in steps

	// edges holds one vertex per step and an edge from each step to every
	// step that reads one of its outputs.
	edges graph.Graph[string, string]
	links []link // every resolved source, for drawing

	order      []string
	deps       map[string][]string // step -> steps it reads from, sorted
	dependents map[string][]string // step -> steps that read from it, sorted
}

type stepInfo struct {
	Step
	outputs map[string]bool
}

type nodeKind int

const (
	inputNode nodeKind = iota
	stepNode
	outputNode
)

// node is one end of a link: a workflow input, a step (with the output a
// link reads, if any) or a workflow output.
type node struct {
	kind   nodeKind
	id     string
	output string
}

// link is one resolved source: to reads from.
type link struct {
	from, to node
}

// Order returns every step id in a topological order: each step comes after
// all steps it reads from. Among steps that are ready at the same time,
// the one declared first in the Spec comes first, so the order is
// deterministic and follows the workflow's own order where it can.
func (g *Graph) Order() []string {
	return append([]string(nil), g.order...)
}

// Dependencies returns the ids of the steps that step reads from, sorted
// and without duplicates. It returns nil for a step with none, or for an
// unknown step.
func (g *Graph) Dependencies(step string) []string {
	return append([]string(nil), g.deps[step]...)
}

// Dependents returns the ids of the steps that read from step, sorted and
// without duplicates. It returns nil for a step with none, or for an
// unknown step.
func (g *Graph) Dependents(step string) []string {
	return append([]string(nil), g.dependents[step]...)
}
