package engine

import (
	"fmt"
	"os"
	"strings"

	"github.com/flow-cwl/flow/expr"
	"github.com/flow-cwl/flow/schema"
)

// addSecondaryFiles finds the secondary files of primary file f by the
// parameter's patterns and adds them to f["secondaryFiles"]. For inputs a
// pattern is required unless it says otherwise; for outputs the reverse.
// Without discover, only files already attached count.
func (e *Engine) addSecondaryFiles(f map[string]any, specs []schema.SecondaryFile, input, discover bool, inputs map[string]any, ev *expr.Evaluator) error {
	have := asList(f["secondaryFiles"])
	for _, sf := range specs {
		pattern, _ := sf.Pattern.(string)
		required := input
		if strings.HasSuffix(pattern, "?") {
			pattern, required = strings.TrimSuffix(pattern, "?"), false
		}
		if sf.Required != nil {
			r, err := evalBool(ev, sf.Required, inputs, f)
			if err != nil {
				return err
			}
			required = r
		}
		names, err := secondaryNames(pattern, f, inputs, ev)
		if err != nil {
			return err
		}
		for _, name := range names {
			var err error
			have, err = addSecondary(have, f, name, required, discover)
			if err != nil {
				return err
			}
		}
	}
	if input {
		if err := e.checkPaths(have); err != nil {
			return err
		}
	}
	// A parameter that declares secondary files gives each of its Files
	// the list, empty when none were found, as the reference runner does:
	// expressions read inputs.f.secondaryFiles.length.
	if len(specs) > 0 || len(have) > 0 || f["secondaryFiles"] != nil {
		if have == nil {
			have = []any{}
		}
		f["secondaryFiles"] = have
	}
	return nil
}

// secondaryNames evaluates one pattern to file names (relative to the
// primary's folder) or File/Directory objects.
func secondaryNames(pattern string, f map[string]any, inputs map[string]any, ev *expr.Evaluator) ([]any, error) {
	if !expr.IsExpression(pattern) {
		base, _ := f["basename"].(string)
		return []any{schema.SecondaryName(base, pattern)}, nil
	}
	v, err := ev.Eval(pattern, expr.Context{Inputs: inputs, Self: f})
	if err != nil {
		return nil, err
	}
	return asList(v), nil
}

func addSecondary(have []any, primary map[string]any, name any, required, discover bool) ([]any, error) {
	var obj map[string]any
	switch n := name.(type) {
	case nil:
		return have, nil
	case string:
		if n == "" {
			return have, nil
		}
		for _, h := range have {
			if hm, ok := h.(map[string]any); ok && hm["basename"] == n {
				return have, nil
			}
		}
		dir := primary["dirname"].(string)
		p := dir + "/" + n
		st, err := os.Stat(p)
		if err != nil || !discover {
			if required {
				return nil, fmt.Errorf("missing required secondary file %q of %s", n, localPath(primary))
			}
			return have, nil
		}
		class := "File"
		if st.IsDir() {
			class = "Directory"
		}
		obj = fileObject(class, p)
		if class == "File" {
			obj["size"] = st.Size()
		}
	case map[string]any:
		obj = n
	default:
		return nil, fmt.Errorf("a secondaryFiles expression returned %s, expected a name or a File", schema.Describe(name))
	}
	for i, h := range have {
		if hm, ok := h.(map[string]any); ok && hm["location"] == obj["location"] {
			have[i] = obj
			return have, nil
		}
	}
	return append(have, obj), nil
}

// evalBool evaluates a boolean field that may be an expression.
func evalBool(ev *expr.Evaluator, v any, inputs map[string]any, self any) (bool, error) {
	if s, ok := v.(string); ok {
		r, err := ev.Eval(s, expr.Context{Inputs: inputs, Self: self})
		if err != nil {
			return false, err
		}
		v = r
	}
	if v == nil {
		return false, nil // an optional input left out: not required
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("expected true or false, got %s", schema.Describe(v))
	}
	return b, nil
}

// checkFormat checks the format of input files against the formats the
// parameter accepts. A format that evaluates to null, like one left out,
// accepts any file: null is one of the field's types.
func checkFormat(in *schema.Parameter, v any, inputs map[string]any, ev *expr.Evaluator, p *schema.Process) error {
	if in.Format == nil {
		return nil
	}
	want, err := evalFormats(in.Format, inputs, ev)
	if err != nil {
		return err
	}
	if len(want) == 0 {
		return nil
	}
	for _, f := range topFiles(v) {
		got, _ := f["format"].(string)
		if got == "" {
			continue
		}
		got = expandPrefix(got, p.Namespaces)
		f["format"] = got
		if ok, problem := formatMatches(got, want, p.Schemas); !ok {
			if problem != "" {
				problem = " (an ontology could not be read: " + problem + ")"
			}
			return fmt.Errorf("file %s has format %s, but %s accepts %s%s",
				f["basename"], got, shortName(p), strings.Join(want, " or "), problem)
		}
	}
	return nil
}

// evalFormats evaluates an input parameter's format: a string, a list of
// them, or an expression giving either. Null (the whole field or an item
// of the list) adds no format; any other value is an error, as the
// reference runner has it.
func evalFormats(f any, inputs map[string]any, ev *expr.Evaluator) ([]string, error) {
	var out []string
	for _, it := range asList(f) {
		s, ok := it.(string)
		if !ok {
			continue
		}
		if !expr.IsExpression(s) {
			out = append(out, s)
			continue
		}
		r, err := ev.Eval(s, expr.Context{Inputs: inputs})
		if err != nil {
			return nil, err
		}
		for _, x := range asList(r) {
			switch xs := x.(type) {
			case nil:
			case string:
				out = append(out, xs)
			default:
				return nil, fmt.Errorf("format %s gave %s; it must give a format IRI, a list of them, or null", s, schema.Describe(r))
			}
		}
	}
	return out, nil
}

// evalOutputFormat evaluates an output parameter's format for one of its
// files (self in the expression): an IRI, or null for no format, which
// leaves the file as it is.
func evalOutputFormat(f any, file map[string]any, j *job) (string, bool, error) {
	if l, ok := f.([]any); ok && len(l) > 0 {
		f = l[0] // not CWL, but a list of one was taken before
	}
	s, ok := f.(string)
	if !ok {
		return "", false, nil
	}
	if !expr.IsExpression(s) {
		return s, true, nil
	}
	r, err := j.ev.Eval(s, expr.Context{Inputs: j.inputs, Self: file, Runtime: j.rt})
	if err != nil {
		return "", false, err
	}
	switch v := r.(type) {
	case nil:
		return "", false, nil
	case string:
		return v, true, nil
	}
	return "", false, fmt.Errorf("format %s gave %s; it must give a format IRI or null", s, schema.Describe(r))
}

// expandPrefix expands a namespace prefix ("edam:format_1930") with the
// document's $namespaces; input objects use the tool's prefixes.
func expandPrefix(id string, ns map[string]string) string {
	prefix, rest, ok := strings.Cut(id, ":")
	if !ok {
		return id
	}
	if full, ok := ns[prefix]; ok {
		return full + rest
	}
	return id
}
