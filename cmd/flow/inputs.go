package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/flow-cwl/flow/internal/cwljson"
	"github.com/flow-cwl/flow/schema"
	"github.com/flow-cwl/flow/storage"
)

// errInputHelp asks for the list of a document's inputs (--help after it).
var errInputHelp = errors.New("input help requested")

// parseInputFlags reads cwltool-style input flags: "--name value" or
// "--name=value"; "--name" alone for a boolean; for an array, the flag
// repeated or followed by several values; a path (relative to wd) for a
// File or Directory. The values are typed by the inputs of p, and the
// engine checks them like any others.
func parseInputFlags(p *schema.Process, args []string, wd string) (map[string]any, error) {
	out := map[string]any{}
	for i := 0; i < len(args); {
		a := args[i]
		if !isFlag(a) {
			return nil, fmt.Errorf("unexpected argument %q; input values follow a flag such as --%s", a, firstInput(p))
		}
		name, inline := flagName(a)
		if (name == "help" || name == "h") && findInput(p, name) == nil {
			return nil, errInputHelp
		}
		in := findInput(p, name)
		if in == nil {
			return nil, fmt.Errorf("there is no input %q; the inputs are: %s", name, inputNames(p))
		}
		// The flag's values: after "=", or the arguments up to the next flag.
		var vals []string
		i++
		if inline {
			_, v, _ := strings.Cut(a, "=")
			vals = []string{v}
		} else {
			for i < len(args) && !isFlag(args[i]) {
				vals = append(vals, args[i])
				i++
			}
		}
		v, err := flagValue(in.Type, vals, wd)
		if err != nil {
			return nil, fmt.Errorf("input flag --%s: %w", name, err)
		}
		if prev, ok := out[name].([]any); ok && v != nil {
			v = append(prev, v.([]any)...) // a repeated array flag adds items
		}
		out[name] = v
	}
	return out, nil
}

// flagValue converts the words after one input flag to a value of type t.
func flagValue(t *schema.Type, vals []string, wd string) (any, error) {
	t, err := flagType(t)
	if err != nil {
		return nil, err
	}
	if t.Kind == schema.TBoolean {
		switch len(vals) {
		case 0:
			return true, nil
		case 1:
			b, err := strconv.ParseBool(vals[0])
			if err != nil {
				return nil, fmt.Errorf("%q is not true or false", vals[0])
			}
			return b, nil
		}
		return nil, fmt.Errorf("a boolean takes no values, found %d", len(vals))
	}
	if t.Kind == schema.TArray {
		items := make([]any, 0, len(vals))
		for _, s := range vals {
			it, err := flagValue(t.Items, []string{s}, wd)
			if err != nil {
				return nil, err
			}
			items = append(items, it)
		}
		return items, nil
	}
	if len(vals) != 1 {
		return nil, fmt.Errorf("expected one value of type %s, found %d", t, len(vals))
	}
	return scalarValue(t, vals[0], wd)
}

// flagType is the type a flag's words are read as: an optional type's
// non-null member. Records and other unions need an input file.
func flagType(t *schema.Type) (*schema.Type, error) {
	if t == nil {
		return &schema.Type{Kind: schema.TString}, nil
	}
	if t.Kind == schema.TUnion {
		var members []*schema.Type
		for _, u := range t.Union {
			if u.Kind != schema.TNull {
				members = append(members, u)
			}
		}
		if len(members) != 1 {
			return nil, fmt.Errorf("an input of type %s cannot be given as a flag; put it in a job file", t)
		}
		t = members[0]
	}
	if t.Kind == schema.TRecord {
		return nil, fmt.Errorf("a record input cannot be given as a flag; put it in a job file")
	}
	return t, nil
}

func scalarValue(t *schema.Type, s, wd string) (any, error) {
	switch t.Kind {
	case schema.TInt, schema.TLong:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a whole number", s)
		}
		return n, nil
	case schema.TFloat, schema.TDouble:
		// As a job file would hold it: a literal a float64 would round
		// stays exact.
		if n, ok := cwljson.Number(s); ok {
			return n, nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", s)
		}
		return f, nil
	case schema.TFile, schema.TDirectory:
		if storage.Remote(s) { // s3:// or http(s)://: fetched before the run
			return map[string]any{"class": string(t.Kind), "location": s}, nil
		}
		if !filepath.IsAbs(s) {
			s = filepath.Join(wd, s)
		}
		return map[string]any{"class": string(t.Kind), "location": schema.FileURI(s)}, nil
	case schema.TEnum:
		if !slices.Contains(t.Symbols, s) {
			return nil, fmt.Errorf("%q is not one of %s", s, strings.Join(t.Symbols, ", "))
		}
		return s, nil
	case schema.TArray:
		return nil, fmt.Errorf("an array of arrays cannot be given as a flag; put it in a job file")
	}
	return s, nil // string, Any
}

func findInput(p *schema.Process, name string) *schema.Parameter {
	for _, in := range p.Inputs {
		if in.ID == name {
			return in
		}
	}
	return nil
}

func inputNames(p *schema.Process) string {
	if len(p.Inputs) == 0 {
		return "(none)"
	}
	names := make([]string, len(p.Inputs))
	for i, in := range p.Inputs {
		names[i] = in.ID
	}
	return strings.Join(names, ", ")
}

func firstInput(p *schema.Process) string {
	if len(p.Inputs) == 0 {
		return "name"
	}
	return p.Inputs[0].ID
}

// inputUsage lists the inputs of p as flags, for "flow run DOC --help".
func inputUsage(doc string, p *schema.Process) string {
	var b strings.Builder
	fmt.Fprintf(&b, "inputs of %s (%s):\n", doc, p.Class)
	for _, in := range p.Inputs {
		fmt.Fprintf(&b, "  --%s %s", in.ID, typeName(in.Type))
		switch {
		case in.HasDefault:
			fmt.Fprintf(&b, " (default %v)", in.Default)
		case !in.Type.Optional():
			b.WriteString(" (required)")
		}
		b.WriteString("\n")
		if doc := strings.TrimSpace(in.Doc); doc != "" {
			fmt.Fprintf(&b, "      %s\n", strings.ReplaceAll(doc, "\n", "\n      "))
		}
	}
	return b.String()
}

// typeName writes a type the way a document would: "File?" rather than
// "null | File", and an enum as its symbols.
func typeName(t *schema.Type) string {
	if t == nil {
		return "Any"
	}
	switch t.Kind {
	case schema.TUnion:
		var names []string
		optional := false
		for _, u := range t.Union {
			if u.Kind == schema.TNull {
				optional = true
				continue
			}
			names = append(names, typeName(u))
		}
		s := strings.Join(names, " | ")
		if optional && len(names) == 1 {
			return s + "?"
		}
		if optional {
			return "null | " + s
		}
		return s
	case schema.TEnum:
		return strings.Join(t.Symbols, "|")
	case schema.TArray:
		return typeName(t.Items) + "[]"
	}
	return t.String()
}
