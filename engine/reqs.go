package engine

import "github.com/flow-cwl/flow/schema"

// procEnv carries the requirements and hints a process inherits from the
// workflows and steps around it, least specific first.
type procEnv struct {
	reqs  []schema.Requirement
	hints []schema.Requirement
	// override holds the input object's cwl:requirements, which beat
	// every requirement of the documents.
	override []schema.Requirement
	// discover is true for the top-level process only: its input files
	// get their secondaryFiles looked up on disk; inside a workflow they
	// must come attached by whatever produced them.
	discover bool
}

// with returns the environment seen inside a scope that adds reqs and hints
// (a step, or a process); the new entries are more specific.
func (pe *procEnv) with(reqs, hints []schema.Requirement) *procEnv {
	n := &procEnv{
		reqs:     make([]schema.Requirement, 0, len(pe.reqs)+len(reqs)),
		hints:    make([]schema.Requirement, 0, len(pe.hints)+len(hints)),
		override: pe.override,
		discover: pe.discover,
	}
	n.reqs = append(append(n.reqs, pe.reqs...), reqs...)
	n.hints = append(append(n.hints, pe.hints...), hints...)
	return n
}

// find returns the most specific requirement of class, else the most
// specific hint of it; requirements always win over hints.
func (pe *procEnv) find(class string) (map[string]any, bool) {
	if r, ok := schema.Find(pe.override, class); ok {
		return r.Fields, true
	}
	if r, ok := schema.Find(pe.reqs, class); ok {
		return r.Fields, true
	}
	if h, ok := schema.Find(pe.hints, class); ok {
		return h.Fields, true
	}
	return nil, false
}

// required reports whether class is listed as a requirement (not a hint).
func (pe *procEnv) required(class string) bool {
	_, ok := schema.Find(pe.reqs, class)
	_, over := schema.Find(pe.override, class)
	return ok || over
}
