package schema

import (
	"fmt"
	"strings"
)

func (l *Loader) decodeWorkflow(p *Process, n *Node, sc scope) error {
	list, err := entries(n.Get("steps"), "steps")
	if err != nil {
		return err
	}
	if n.Get("steps") == nil {
		return errAt(n, "steps", "missing; a Workflow needs steps")
	}
	seen := map[string]bool{}
	for _, e := range list {
		s, err := l.decodeStep(e, p, sc)
		if err != nil {
			return err
		}
		if seen[s.ID] {
			return errAt(e.n, "steps."+s.ID, "the step id %q is used twice", s.ID)
		}
		seen[s.ID] = true
		p.Steps = append(p.Steps, s)
	}
	for _, o := range p.Outputs {
		for i, src := range o.OutputSource {
			o.OutputSource[i] = sourceID(src, p.ID, n.Base, sc)
		}
	}
	return nil
}

// sourceID turns a source reference into the workflow-relative form
// "input" or "step/output".
func sourceID(src, wfID, base string, sc scope) string {
	if !strings.Contains(src, "#") {
		return src
	}
	return relativeID(resolveRef(base, src, sc.namespaces), wfID)
}

func (l *Loader) decodeStep(e entry, wf *Process, sc scope) (*Step, error) {
	n := e.n
	if n.Kind != MapNode {
		return nil, errAt(n, "steps", "expected a step (a mapping), found %s", describe(n))
	}
	s := &Step{ID: e.key, Pos: n.Pos}
	if s.ID == "" {
		id, _ := n.Get("id").Str()
		if id == "" {
			return nil, errAt(n, "steps", "a step is missing its id")
		}
		s.ID = relativeID(resolveID(n.Base, id, sc.namespaces), wf.ID)
	}
	field := "steps." + s.ID
	if err := knownFields(n, field, "a step", stepFields); err != nil {
		return nil, err
	}
	stepFull := wf.ID + "/" + s.ID
	if !strings.Contains(wf.ID, "#") {
		stepFull = wf.ID + "#" + s.ID
	}
	var err error
	s.Label, _ = optString(n, "label", field)
	s.Doc, _ = n.Get("doc").Str()
	if s.Requirements, err = l.decodeRequirements(n.Get("requirements"), field+".requirements", sc, true); err != nil {
		return nil, err
	}
	if s.Hints, err = l.decodeRequirements(n.Get("hints"), field+".hints", sc, false); err != nil {
		return nil, err
	}
	if s.In, err = l.decodeStepInputs(n.Get("in"), field+".in", stepFull, wf, sc); err != nil {
		return nil, err
	}
	s.InPos = n.Pos
	if in := n.Get("in"); in != nil {
		s.InPos = in.Pos
	}
	if s.Out, s.OutPos, err = decodeStepOutputs(n, field+".out", stepFull, sc); err != nil {
		return nil, err
	}
	scatter, err := stringList(n.Get("scatter"), field+".scatter")
	if err != nil {
		return nil, err
	}
	for _, sc2 := range scatter {
		id := paramID(resolveID(n.Base, sc2, sc.namespaces), stepFull)
		if !s.hasInput(id) {
			return nil, errAt(n.Get("scatter"), field+".scatter", "scatters over %q, which is not one of the step's inputs (in)", id)
		}
		s.Scatter = append(s.Scatter, id)
	}
	if s.ScatterMethod, err = optEnum(n, "scatterMethod", field); err != nil {
		return nil, err
	}
	if s.When, err = optString(n, "when", field); err != nil {
		return nil, err
	}
	if s.When != "" {
		if err := needVersion(n.Get("when"), field+".when", "v1.2", sc.version, "a conditional step (when)"); err != nil {
			return nil, err
		}
	}
	if s.Run, err = l.decodeRun(n, field+".run", stepFull, sc); err != nil {
		return nil, err
	}
	return s, nil
}

func (l *Loader) decodeStepInputs(v *Node, path, stepFull string, wf *Process, sc scope) ([]*StepInput, error) {
	list, err := entries(v, path)
	if err != nil {
		return nil, err
	}
	var out []*StepInput
	for _, e := range list {
		in := &StepInput{ID: e.key, Pos: e.n.Pos}
		n := e.n
		if e.key != "" && n.Kind != MapNode { // map form: id: source(s)
			if in.Source, err = stringList(n, path+"."+e.key); err != nil {
				return nil, err
			}
			in.MultiSource = n.Kind == SeqNode
		} else {
			if err := decodeStepInputFields(in, n, path, stepFull, sc); err != nil {
				return nil, err
			}
		}
		for i, src := range in.Source {
			in.Source[i] = sourceID(src, wf.ID, n.Base, sc)
		}
		out = append(out, in)
	}
	return out, nil
}

func decodeStepInputFields(in *StepInput, n *Node, path, stepFull string, sc scope) error {
	if n.Kind != MapNode {
		return errAt(n, path, "expected a step input (a mapping with id), found %s", describe(n))
	}
	if in.ID == "" {
		id, _ := n.Get("id").Str()
		if id == "" {
			return errAt(n, path, "a step input is missing its id")
		}
		in.ID = paramID(resolveID(n.Base, id, sc.namespaces), stepFull)
	}
	field := path + "." + in.ID
	if err := knownFields(n, field, "a step input", stepInputFields); err != nil {
		return err
	}
	var err error
	src := n.Get("source")
	if in.Source, err = stringList(src, field+".source"); err != nil {
		return err
	}
	in.MultiSource = src != nil && src.Kind == SeqNode
	if d := n.Get("default"); d != nil {
		in.Default, in.HasDefault = resolveLocations(d.Plain(), n.Base), true
	}
	for _, f := range []struct {
		key string
		dst *string
	}{{"linkMerge", &in.LinkMerge}, {"pickValue", &in.PickValue}, {"valueFrom", &in.ValueFrom}, {"loadListing", &in.LoadListing}} {
		read := optEnum
		if f.key == "valueFrom" {
			read = optString
		}
		if *f.dst, err = read(n, f.key, field); err != nil {
			return err
		}
	}
	in.LoadContents, err = optBool(n, "loadContents", field, false)
	return err
}

func decodeStepOutputs(step *Node, path, stepFull string, sc scope) ([]string, []Pos, error) {
	v := step.Get("out")
	if v.IsNull() {
		return nil, nil, errAt(step, path, "missing; a step must list the outputs it uses (out: [] for none)")
	}
	if v.Kind != SeqNode {
		return nil, nil, errAt(v, path, "expected a list of output ids, found %s", describe(v))
	}
	var out []string
	var pos []Pos
	for _, it := range v.Items {
		id, ok := it.Str()
		if !ok {
			if err := knownFields(it, path, "a step output", stepOutputFields); err != nil {
				return nil, nil, err
			}
			id, _ = it.Get("id").Str()
		}
		if id == "" {
			return nil, nil, errAt(it, path, "expected an output id, found %s", describe(it))
		}
		out = append(out, paramID(resolveID(it.Base, id, sc.namespaces), stepFull))
		pos = append(pos, it.Pos)
	}
	return out, pos, nil
}

// decodeRun loads a step's process: inline, a reference into the same
// $graph, or another file.
func (l *Loader) decodeRun(step *Node, path, stepFull string, sc scope) (*Process, error) {
	v := step.Get("run")
	if v.IsNull() {
		return nil, errAt(step, path, "missing; a step needs run (a process or a file)")
	}
	if v.Kind == MapNode {
		inner := sc
		inner.top = false
		return l.decodeProcess(v, inner, stepFull+"/run")
	}
	ref, ok := v.Str()
	if !ok {
		return nil, errAt(v, path, "expected a file name or a process, found %s", describe(v))
	}
	full := resolveRef(v.Base, ref, sc.namespaces)
	if sc.graph != nil {
		if gn, ok := sc.graph[full]; ok {
			inner := sc
			inner.top = false
			return l.decodeProcess(gn, inner, full)
		}
	}
	p, err := l.loadURI(full, scope{})
	if cerr, ok := refused(err); ok {
		return nil, &Error{Pos: v.Pos, Field: path, Msg: fmt.Sprintf("location %q %v", ref, cerr), Err: err}
	}
	if err != nil {
		var le *Error
		if errorsAs(err, &le) && le.Pos.Line == 0 {
			return nil, errAt(v, path, "cannot load %q: %s", ref, le.Msg)
		}
		return nil, fmt.Errorf("%s: field %s: in %q: %w", v.Pos, path, ref, err)
	}
	return p, nil
}

func (s *Step) hasInput(id string) bool {
	for _, in := range s.In {
		if in.ID == id {
			return true
		}
	}
	return false
}
