package schema

import (
	"fmt"
	"slices"
	"strings"
)

// Check finds what would make a loaded workflow fail once it runs although
// each document is well-formed: a step that leaves a required input of its
// process unset, a step output its process does not have, a scatter or a
// subworkflow its workflow does not declare the feature requirement for,
// and a source whose type cannot flow into where it goes. It walks p and
// every process its steps run.
//
// The type rules are those CWL runners apply before running (cwltool's
// static checker): a source must fit its sink after the step's scatter,
// the sink's linkMerge and pickValue, and a conditional step's null; a
// valueFrom may turn anything into anything. A source that fits only some
// of the time (an optional source into a required sink, a File lacking a
// secondary file the sink asks for) is a warning, not an error, since the
// run may well succeed. Check returns those warnings, and the first
// error.
func Check(p *Process) (warnings []*Error, err error) {
	c := &checker{seen: map[*Process]bool{}}
	err = c.process(p, nil)
	return c.warnings, err
}

type checker struct {
	seen     map[*Process]bool
	warnings []*Error
}

func (c *checker) warn(pos Pos, field, format string, args ...any) {
	c.warnings = append(c.warnings, &Error{Pos: pos, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// process checks a workflow and the workflows its steps run. inherited
// are the requirements and hints of the workflows that contain it.
func (c *checker) process(p *Process, inherited []Requirement) error {
	if p == nil || p.Class != "Workflow" || c.seen[p] {
		return nil
	}
	c.seen[p] = true
	reqs := slices.Concat(inherited, p.Requirements, p.Hints)
	for _, s := range p.Steps {
		if err := checkFeatures(s, slices.Concat(reqs, s.Requirements, s.Hints)); err != nil {
			return err
		}
		if err := c.stepInterface(s); err != nil {
			return err
		}
	}
	if err := c.links(p); err != nil {
		return err
	}
	for _, s := range p.Steps {
		if err := c.process(s.Run, slices.Concat(reqs, s.Requirements, s.Hints)); err != nil {
			return err
		}
	}
	return nil
}

// checkFeatures refuses a step that uses a workflow feature its workflow
// does not declare (CWL's feature requirements, which may be given as
// hints too and hold for the steps of nested workflows), and a scatter
// over several inputs that does not say how to combine them.
func checkFeatures(s *Step, reqs []Requirement) error {
	field := "steps." + s.ID
	if len(s.Scatter) > 0 {
		if _, ok := Find(reqs, "ScatterFeatureRequirement"); !ok {
			return &Error{Pos: s.Pos, Field: field + ".scatter", Msg: "a scattered step needs ScatterFeatureRequirement in the workflow's requirements"}
		}
		if len(s.Scatter) > 1 && s.ScatterMethod == "" {
			return &Error{Pos: s.Pos, Field: field + ".scatterMethod", Msg: "missing; a step scattered over several inputs must say how to combine them (dotproduct, nested_crossproduct or flat_crossproduct)"}
		}
	}
	if s.Run != nil && s.Run.Class == "Workflow" {
		if _, ok := Find(reqs, "SubworkflowFeatureRequirement"); !ok {
			return &Error{Pos: s.Pos, Field: field + ".run", Msg: "a step that runs a workflow needs SubworkflowFeatureRequirement in the workflow's requirements"}
		}
	}
	return nil
}

// stepInterface checks a step's in and out against its process.
func (c *checker) stepInterface(s *Step) error {
	if s.Run == nil {
		return nil
	}
	field := "steps." + s.ID
	for i, id := range s.Out {
		if findParam(s.Run.Outputs, id) == nil {
			pos := s.Pos
			if i < len(s.OutPos) {
				pos = s.OutPos[i]
			}
			return &Error{Pos: pos, Field: field + ".out", Msg: fmt.Sprintf("the step's process has no output %q (%s)", id, paramList("it has", s.Run.Outputs))}
		}
	}
	var missing []string
	for _, in := range s.Run.Inputs {
		if stepInput(s, in.ID) == nil && !in.Type.Optional() && !in.HasDefault {
			missing = append(missing, strconvQuote(in.ID))
		}
	}
	if len(missing) > 0 {
		what := "input " + missing[0]
		if len(missing) > 1 {
			what = "inputs " + strings.Join(missing, ", ")
		}
		return &Error{Pos: s.InPos, Field: field + ".in", Msg: fmt.Sprintf("the step leaves the required %s of its process unset (give a source, a default or a valueFrom)", what)}
	}
	for _, in := range s.In {
		target := findParam(s.Run.Inputs, in.ID)
		if target == nil {
			if !usedByStep(s, in.ID) {
				c.warn(in.Pos, field+".in."+in.ID, "the step's process has no input %q (%s)", in.ID, paramList("it has", s.Run.Inputs))
			}
			continue
		}
		if len(in.Source) == 0 && !in.HasDefault && !target.HasDefault && in.ValueFrom == "" && !target.Type.Optional() {
			return &Error{Pos: in.Pos, Field: field + ".in." + in.ID, Msg: fmt.Sprintf("the required input %q has no source, default or valueFrom", in.ID)}
		}
	}
	return nil
}

// usedByStep reports whether a step input that its process does not have
// is read by the step's own expressions (another input's valueFrom, when),
// which is what such an input is for.
func usedByStep(s *Step, id string) bool {
	ref := "inputs." + id
	if strings.Contains(s.When, ref) {
		return true
	}
	for _, in := range s.In {
		if strings.Contains(in.ValueFrom, ref) {
			return true
		}
	}
	return false
}

// endpoint is a parameter at one end of a link, with its type as the link
// sees it (wrapped in arrays by a scatter, made optional by a when).
type endpoint struct {
	param *Parameter
	typ   *Type
	when  bool // the output of a conditional step
}

// links checks the type of every source of the workflow's step inputs and
// outputs against where it goes.
func (c *checker) links(wf *Process) error {
	sources := map[string]endpoint{}
	for _, in := range wf.Inputs {
		sources[in.ID] = endpoint{param: in, typ: in.Type}
	}
	for _, s := range wf.Steps {
		if s.Run == nil {
			continue
		}
		nesting := 0
		if len(s.Scatter) > 0 {
			nesting = 1
			if s.ScatterMethod == "nested_crossproduct" {
				nesting = len(s.Scatter)
			}
		}
		for _, o := range s.Run.Outputs {
			t := o.Type
			for range nesting {
				t = &Type{Kind: TArray, Items: t}
			}
			sources[s.ID+"/"+o.ID] = endpoint{param: o, typ: t, when: s.When != ""}
		}
	}
	for _, s := range wf.Steps {
		if s.Run == nil {
			continue
		}
		for _, in := range s.In {
			target := findParam(s.Run.Inputs, in.ID)
			if target == nil || len(in.Source) == 0 {
				continue
			}
			sink := endpoint{param: target, typ: target.Type}
			if slices.Contains(s.Scatter, in.ID) {
				sink.typ = &Type{Kind: TArray, Items: target.Type}
			}
			l := link{sources: in.Source, multi: in.MultiSource, linkMerge: in.LinkMerge, pickValue: in.PickValue, valueFrom: in.ValueFrom != "",
				pos: in.Pos, field: "steps." + s.ID + ".in." + in.ID, sinkName: in.ID}
			if err := c.link(l, sources, sink); err != nil {
				return err
			}
		}
	}
	for _, o := range wf.Outputs {
		if len(o.OutputSource) == 0 {
			continue
		}
		l := link{sources: o.OutputSource, multi: o.MultiSource, linkMerge: o.LinkMerge, pickValue: o.PickValue,
			pos: o.Pos, field: "outputs." + o.ID + ".outputSource", sinkName: o.ID}
		if err := c.link(l, sources, endpoint{param: o, typ: o.Type}); err != nil {
			return err
		}
	}
	return nil
}

// link is a step input or workflow output with its sources.
type link struct {
	sources              []string
	multi                bool
	linkMerge, pickValue string
	valueFrom            bool
	pos                  Pos
	field, sinkName      string
}

type verdict int

const (
	fits verdict = iota
	mayFit
	cannotFit
)

func (c *checker) link(l link, sources map[string]endpoint, sink endpoint) error {
	if l.valueFrom { // the value is made by an expression, of any type
		return nil
	}
	linkMerge := ""
	if l.multi {
		linkMerge = l.linkMerge
		if linkMerge == "" && len(l.sources) > 1 {
			linkMerge = "merge_nested"
		}
		if l.pickValue == "first_non_null" || l.pickValue == "the_only_non_null" {
			linkMerge = "" // one of the sources is picked whole
		}
	}
	for _, id := range l.sources {
		src, ok := sources[id]
		if !ok {
			continue // a dangling source, which the step graph reports
		}
		if src.when {
			switch {
			case l.multi && l.pickValue == "":
				c.warn(l.pos, l.field, "source %q comes from a conditional step, but no pickValue says what to do with its null", id)
			case !l.multi && !src.typ.Optional():
				src.typ = &Type{Kind: TUnion, Union: []*Type{{Kind: TNull}, src.typ}}
			}
		}
		if !l.multi && l.pickValue != "" {
			c.warn(l.pos, l.field, "pickValue %s is used with a single source, which it does nothing to", l.pickValue)
		}
		merged := ""
		if linkMerge != "" {
			merged = fmt.Sprintf(", merged by %s into %s,", linkMerge, mergedType(src.typ, linkMerge))
		}
		switch checkLink(src, sink, linkMerge) {
		case cannotFit:
			return &Error{Pos: l.pos, Field: l.field, Msg: fmt.Sprintf("source %q of type %s%s cannot flow into %q of type %s", id, src.typ, merged, l.sinkName, sink.typ)}
		case mayFit:
			missing := missingSecondary(src, sink)
			switch {
			case !l.multi && src.when && !sink.typ.Optional():
				c.warn(l.pos, l.field, "source %q comes from a conditional step and may be null, which %q of type %s does not take", id, l.sinkName, sink.typ)
			case linkMerge == "" && len(missing) > 0:
				c.warn(l.pos, l.field, "%q asks for secondary files %s that source %q does not declare", l.sinkName, strings.Join(missing, ", "), id)
			default:
				c.warn(l.pos, l.field, "source %q of type %s%s may not fit %q of type %s", id, src.typ, merged, l.sinkName, sink.typ)
			}
		}
	}
	return nil
}

// checkLink says whether a source fits its sink, the sources merged by
// linkMerge (merge_nested wraps each in a list, merge_flattened wraps all
// but lists).
func checkLink(src, sink endpoint, linkMerge string) verdict {
	if src.typ == nil || sink.typ == nil { // untyped: anything goes
		return fits
	}
	if linkMerge != "" {
		return compare(mergedType(src.typ, linkMerge), sink.typ)
	}
	if src.typ.Kind == TFile && sink.typ.Kind == TFile && len(missingSecondary(src, sink)) > 0 {
		return mayFit
	}
	return compare(src.typ, sink.typ)
}

func compare(src, sink *Type) verdict {
	switch {
	case assignable(src, sink, true, nil):
		return fits
	case assignable(src, sink, false, nil):
		return mayFit
	}
	return cannotFit
}

// mergedType is what linkMerge makes of a source of type t.
func mergedType(t *Type, linkMerge string) *Type {
	if linkMerge == "merge_flattened" {
		return flattened(t)
	}
	return &Type{Kind: TArray, Items: t}
}

// flattened is the type merge_flattened makes of one source: a list is
// spliced in as is, anything else becomes a list of one.
func flattened(t *Type) *Type {
	if t == nil {
		return &Type{Kind: TArray}
	}
	switch t.Kind {
	case TUnion:
		u := &Type{Kind: TUnion}
		for _, m := range t.Union {
			u.Union = append(u.Union, flattened(m))
		}
		return u
	case TArray:
		return t
	}
	return &Type{Kind: TArray, Items: t}
}

// missingSecondary lists the secondary files the sink declares that the
// source does not.
func missingSecondary(src, sink endpoint) []string {
	var missing []string
	for _, want := range sink.param.Secondary {
		found := false
		for _, have := range src.param.Secondary {
			if fmt.Sprint(have.Pattern) == fmt.Sprint(want.Pattern) && fmt.Sprint(have.Required) == fmt.Sprint(want.Required) {
				found = true
			}
		}
		if !found {
			missing = append(missing, fmt.Sprintf("%q", fmt.Sprint(want.Pattern)))
		}
	}
	return missing
}

// assignable reports whether values of type src may go where sink is
// expected. Strictly, every value src allows must fit; otherwise some
// value other than null must. Named records and enums are compared by
// their shape, not their names. pairs holds the record pairs being
// compared, so that recursive types end.
func assignable(src, sink *Type, strict bool, pairs map[[2]*Type]bool) bool {
	if src == nil || sink == nil || src.Kind == TAny || sink.Kind == TAny {
		return true
	}
	if complexType(src) && complexType(sink) {
		switch {
		case src.Kind == TArray && sink.Kind == TArray:
			return assignable(src.Items, sink.Items, strict, pairs)
		case src.Kind == TRecord && sink.Kind == TRecord:
			return recordsFit(src, sink, strict, pairs)
		}
		return src.Kind == sink.Kind
	}
	if src.Kind == TUnion {
		for _, m := range src.Union {
			if strict && !assignable(m, sink, false, pairs) {
				return false
			}
			if !strict && m.Kind != TNull && assignable(m, sink, false, pairs) {
				return true
			}
		}
		return strict
	}
	if sink.Kind == TUnion {
		for _, m := range sink.Union {
			if assignable(src, m, false, pairs) {
				return true
			}
		}
		return false
	}
	return src.Kind == sink.Kind
}

func complexType(t *Type) bool {
	return t.Kind == TArray || t.Kind == TRecord || t.Kind == TEnum
}

// recordsFit reports whether every field of the sink record can be filled
// from the source record (a field the source lacks is null).
func recordsFit(src, sink *Type, strict bool, pairs map[[2]*Type]bool) bool {
	key := [2]*Type{src, sink}
	if pairs[key] {
		return true
	}
	if pairs == nil {
		pairs = map[[2]*Type]bool{}
	}
	pairs[key] = true
	for _, f := range sink.Fields {
		ft := &Type{Kind: TNull}
		for _, g := range src.Fields {
			if shortID(g.ID) == shortID(f.ID) {
				ft = g.Type
			}
		}
		if !assignable(ft, f.Type, strict, pairs) {
			return false
		}
	}
	return true
}

func findParam(params []*Parameter, id string) *Parameter {
	for _, p := range params {
		if p.ID == id {
			return p
		}
	}
	return nil
}

func stepInput(s *Step, id string) *StepInput {
	for _, in := range s.In {
		if in.ID == id {
			return in
		}
	}
	return nil
}

// paramList names a process's parameters for a message: "it has a, b".
func paramList(lead string, params []*Parameter) string {
	if len(params) == 0 {
		return lead + " none"
	}
	ids := make([]string, len(params))
	for i, p := range params {
		ids[i] = p.ID
	}
	return lead + " " + strings.Join(ids, ", ")
}

func strconvQuote(s string) string { return fmt.Sprintf("%q", s) }
