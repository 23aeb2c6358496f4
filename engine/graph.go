package engine

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/flow-cwl/flow/dag"
	"github.com/flow-cwl/flow/schema"
)

var graphs sync.Map // *schema.Process → *dag.Graph

// workflowGraph builds (once per workflow) and checks the step graph.
func Graph(wf *schema.Process) (*dag.Graph, error) {
	if g, ok := graphs.Load(wf); ok {
		return g.(*dag.Graph), nil
	}
	g, err := dag.Build(graphSpec(wf))
	if err != nil {
		return nil, placeGraphError(wf, err)
	}
	graphs.Store(wf, g)
	return g, nil
}

// graphSpec describes a workflow's steps and sources for package dag.
func graphSpec(wf *schema.Process) dag.Spec {
	var spec dag.Spec
	for _, in := range wf.Inputs {
		spec.Inputs = append(spec.Inputs, in.ID)
	}
	for _, s := range wf.Steps {
		st := dag.Step{ID: s.ID, Outputs: s.Out}
		for _, in := range s.In {
			st.Sources = append(st.Sources, in.Source...)
		}
		spec.Steps = append(spec.Steps, st)
	}
	for _, o := range wf.Outputs {
		spec.Outputs = append(spec.Outputs, dag.Output{ID: o.ID, Sources: o.OutputSource})
	}
	return spec
}

// Check validates what loading cannot: the step graph of every workflow
// in p (cycles, sources that name nothing), so that such a mistake is
// reported before anything runs, at the place in the document causing it.
func Check(p *schema.Process) error {
	return checkGraphs(p, map[*schema.Process]bool{})
}

func checkGraphs(p *schema.Process, seen map[*schema.Process]bool) error {
	if p == nil || p.Class != "Workflow" || seen[p] {
		return nil
	}
	seen[p] = true
	if _, err := Graph(p); err != nil {
		return err
	}
	for _, s := range p.Steps {
		if err := checkGraphs(s.Run, seen); err != nil {
			return err
		}
	}
	return nil
}

// placeGraphError turns the first problem dag.Build found into a
// schema.Error at the step input, output or step it concerns; the others
// are counted, since the first is usually the one to fix.
func placeGraphError(p *schema.Process, err error) error {
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	first := &schema.Error{Pos: p.Pos, Field: "steps", Msg: errs[0].Error(), Err: errs[0]}
	var se *dag.SourceError
	var ce *dag.CycleError
	switch {
	case errors.As(errs[0], &se) && se.Step != "":
		if s := findStep(p, se.Step); s != nil {
			first.Pos, first.Field = s.Pos, "steps."+s.ID+".in"
			for _, in := range s.In {
				if slices.Contains(in.Source, se.Source) {
					first.Pos, first.Field = in.Pos, "steps."+s.ID+".in."+in.ID
				}
			}
		}
	case errors.As(errs[0], &se):
		for _, o := range p.Outputs {
			if o.ID == se.WorkflowOutput {
				first.Pos, first.Field = o.Pos, "outputs."+o.ID+".outputSource"
			}
		}
	case errors.As(errs[0], &ce):
		if s := findStep(p, ce.Steps[0]); s != nil {
			first.Pos, first.Field = s.Pos, "steps."+s.ID
		}
	}
	if len(errs) > 1 {
		first.Msg += fmt.Sprintf(" (and %d more problems in this workflow's sources)", len(errs)-1)
	}
	return first
}

func findStep(p *schema.Process, id string) *schema.Step {
	for _, s := range p.Steps {
		if s.ID == id {
			return s
		}
	}
	return nil
}
