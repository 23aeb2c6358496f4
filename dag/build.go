package dag

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dominikbraun/graph"
)

// Build resolves every source in s, checks that the steps form a DAG and
// returns the graph. All dangling sources are reported together (joined
// with errors.Join), along with a cycle if there is one; duplicate or
// malformed step ids are reported alone, because sources cannot be resolved
// unambiguously until they are fixed.
func Build(s Spec) (*Graph, error) {
	g := &Graph{
		inputs: append([]string(nil), s.Inputs...),
		index:  make(map[string]int, len(s.Steps)),
		edges:  graph.New(graph.StringHash, graph.Directed()),
	}
	if err := g.addSteps(s.Steps); err != nil {
		return nil, err
	}
	g.outputs = make([]Output, len(s.Outputs))
	for i, o := range s.Outputs {
		g.outputs[i] = Output{ID: o.ID, Sources: append([]string(nil), o.Sources...)}
	}

	errs := g.resolveSources()
	if err := g.sort(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return g, nil
}

// addSteps copies the steps, checks their ids and adds them as vertices.
func (g *Graph) addSteps(steps []Step) error {
	var errs []error
	g.steps = make([]stepInfo, len(steps))
	for i, st := range steps {
		if err := checkStepID(st.ID); err != nil {
			errs = append(errs, err)
			continue
		}
		if _, dup := g.index[st.ID]; dup {
			errs = append(errs, &idError{
				msg:  fmt.Sprintf("two steps are named %q; step ids must be unique", st.ID),
				kind: ErrDuplicateStep,
			})
			continue
		}
		g.index[st.ID] = i
		outs := make(map[string]bool, len(st.Outputs))
		for _, o := range st.Outputs {
			outs[o] = true
		}
		g.steps[i] = stepInfo{Step: Step{
			ID:      st.ID,
			Outputs: append([]string(nil), st.Outputs...),
			Sources: append([]string(nil), st.Sources...),
		}, outputs: outs}
		// The vertex cannot exist yet: ids were checked for duplicates above.
		_ = g.edges.AddVertex(st.ID)
	}
	return errors.Join(errs...)
}

func checkStepID(id string) error {
	switch {
	case id == "":
		return &idError{msg: "a step has an empty id", kind: ErrInvalidStepID}
	case strings.Contains(id, "/"):
		return &idError{
			msg:  fmt.Sprintf("step id %q contains \"/\", which would make sources that name it ambiguous", id),
			kind: ErrInvalidStepID,
		}
	}
	return nil
}

// resolveSources records a link for every source of every step and
// workflow output, adds step-to-step edges, and returns one SourceError
// per source that resolves to nothing.
func (g *Graph) resolveSources() []error {
	inputs := make(map[string]bool, len(g.inputs))
	for _, in := range g.inputs {
		inputs[in] = true
	}
	var errs []error
	for _, st := range g.steps {
		to := node{kind: stepNode, id: st.ID}
		for _, src := range st.Sources {
			from, serr := g.resolve(src, inputs)
			if serr != nil {
				serr.Step = st.ID
				errs = append(errs, serr)
				continue
			}
			g.links = append(g.links, link{from: from, to: to})
			if from.kind == stepNode {
				// A second edge between the same steps is expected (a step
				// reading two outputs of another); the first one suffices.
				_ = g.edges.AddEdge(from.id, st.ID)
			}
		}
	}
	for _, o := range g.outputs {
		to := node{kind: outputNode, id: o.ID}
		for _, src := range o.Sources {
			from, serr := g.resolve(src, inputs)
			if serr != nil {
				serr.WorkflowOutput = o.ID
				errs = append(errs, serr)
				continue
			}
			g.links = append(g.links, link{from: from, to: to})
		}
	}
	return errs
}

// resolve finds what produces src. The returned SourceError lacks the
// reader, which the caller fills in.
func (g *Graph) resolve(src string, inputs map[string]bool) (node, *SourceError) {
	if inputs[src] {
		return node{kind: inputNode, id: src}, nil
	}
	i := strings.LastIndex(src, "/")
	if i < 0 {
		return node{}, &SourceError{Source: src}
	}
	stepID, out := src[:i], src[i+1:]
	pos, ok := g.index[stepID]
	if !ok {
		return node{}, &SourceError{Source: src, MissingStep: true}
	}
	if !g.steps[pos].outputs[out] {
		return node{}, &SourceError{Source: src}
	}
	return node{kind: stepNode, id: stepID, output: out}, nil
}
