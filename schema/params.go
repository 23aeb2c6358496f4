package schema

import (
	"fmt"
	"strings"
)

// decodeParams reads inputs or outputs; fields are the fields their
// parameters may have besides those of every parameter.
func (l *Loader) decodeParams(v *Node, path, owner string, sc scope, input bool, fields []string) ([]*Parameter, error) {
	list, err := entries(v, path)
	if err != nil {
		return nil, err
	}
	var out []*Parameter
	seen := map[string]bool{}
	for _, e := range list {
		p, err := l.decodeParam(e, path, owner, sc, input, fields)
		if err != nil {
			return nil, err
		}
		if seen[p.ID] {
			return nil, errAt(e.n, path+"."+p.ID, "the id %q is used twice", p.ID)
		}
		seen[p.ID] = true
		out = append(out, p)
	}
	return out, nil
}

// decodeParam reads one parameter (or record field). owner is the full id
// of the process the parameter belongs to ("" for record fields).
func (l *Loader) decodeParam(e entry, path, owner string, sc scope, input bool, fields []string) (*Parameter, error) {
	n := e.n
	p := &Parameter{ID: e.key, Pos: n.Pos}
	if n.Kind != MapNode || isTypeMap(n) {
		if e.key == "" {
			return nil, errAt(n, path, "expected a parameter (a mapping with id and type), found %s", describe(n))
		}
		t, err := l.decodeType(n, path+"."+e.key+".type", sc)
		if err != nil {
			return nil, err
		}
		p.Type = t
		return p, nil
	}
	if p.ID == "" {
		id, _ := n.Get("id").Str()
		if id == "" {
			id, _ = n.Get("name").Str()
		}
		if id == "" {
			return nil, errAt(n, path, "a parameter is missing its id")
		}
		p.ID = paramID(resolveID(n.Base, id, sc.namespaces), owner)
	}
	field := path + "." + p.ID
	if err := knownFields(n, field, "a parameter", paramFields, fields); err != nil {
		return nil, err
	}
	if err := l.decodeParamFields(p, n, field, sc, input); err != nil {
		return nil, err
	}
	return p, nil
}

// paramID shortens a parameter's full id to its name within its owner.
func paramID(full, owner string) string {
	if owner != "" {
		if r := relativeID(full, owner); !strings.Contains(r, "/") {
			return r
		}
	}
	return shortID(full)
}

// isTypeMap tells a parameter written as its type ({type: array, items: X})
// in map form from a parameter mapping.
func isTypeMap(n *Node) bool {
	k, _ := n.Get("type").Str()
	return (k == "array" && n.Has("items")) || (k == "record" && n.Has("fields")) || (k == "enum" && n.Has("symbols"))
}

func (l *Loader) decodeParamFields(p *Parameter, n *Node, field string, sc scope, input bool) error {
	var err error
	if tn := n.Get("type"); tn != nil {
		if p.Type, err = l.decodeType(tn, field+".type", sc); err != nil {
			return err
		}
	} else {
		p.Type = &Type{Kind: TAny}
	}
	p.Label, _ = optString(n, "label", field)
	p.Doc, _ = n.Get("doc").Str()
	p.Format = expandFormat(n.Get("format"), sc)
	if p.Secondary, err = decodeSecondary(n.Get("secondaryFiles"), field+".secondaryFiles", sc.version); err != nil {
		return err
	}
	if p.Streamable, err = optBool(n, "streamable", field, false); err != nil {
		return err
	}
	if p.LoadContents, err = optBool(n, "loadContents", field, false); err != nil {
		return err
	}
	if p.LoadListing, err = optEnum(n, "loadListing", field); err != nil {
		return err
	}
	if d := n.Get("default"); d != nil {
		p.Default, p.HasDefault = resolveLocations(d.Plain(), n.Base), true
	}
	// An optional field written as null is absent, as CWL's schema
	// language reads it (`inputBinding:` with nothing after it).
	if ib := n.Get("inputBinding"); !ib.IsNull() {
		if p.InputBinding, err = decodeBinding(ib, field+".inputBinding"); err != nil {
			return err
		}
	}
	if ob := n.Get("outputBinding"); !ob.IsNull() {
		if p.Type != nil && (p.Type.Kind == TStdout || p.Type.Kind == TStderr) {
			return errAt(ob, field+".outputBinding", "not allowed with type %s, which collects the tool's %s itself", p.Type.Kind, p.Type.Kind)
		}
		if p.OutputBinding, err = decodeOutputBinding(ob, field+".outputBinding"); err != nil {
			return err
		}
	}
	if p.OutputSource, err = stringList(n.Get("outputSource"), field+".outputSource"); err != nil {
		return err
	}
	if os := n.Get("outputSource"); os != nil && os.Kind == SeqNode {
		p.MultiSource = true
	}
	if p.LinkMerge, err = optEnum(n, "linkMerge", field); err != nil {
		return err
	}
	p.PickValue, err = optEnum(n, "pickValue", field)
	return err
}

// expandFormat resolves namespace prefixes of format identifiers
// ("edam:format_1930" → "http://edamontology.org/format_1930").
func expandFormat(v *Node, sc scope) any {
	if v.IsNull() {
		return nil
	}
	if s, ok := v.Str(); ok {
		if strings.Contains(s, "$(") || strings.Contains(s, "${") {
			return s
		}
		return resolveRef(v.Base, s, sc.namespaces)
	}
	if v.Kind == SeqNode {
		out := make([]any, 0, len(v.Items))
		for _, it := range v.Items {
			out = append(out, expandFormat(it, sc))
		}
		return out
	}
	return v.Plain()
}

func decodeSecondary(v *Node, path, version string) ([]SecondaryFile, error) {
	if v.IsNull() {
		return nil, nil
	}
	items := []*Node{v}
	if v.Kind == SeqNode {
		items = v.Items
	}
	var out []SecondaryFile
	for _, it := range items {
		switch it.Kind {
		case ScalarNode:
			s, ok := it.Str()
			if !ok {
				return nil, errAt(it, path, "expected a pattern, found %s", describe(it))
			}
			out = append(out, SecondaryFile{Pattern: s})
		case MapNode:
			if err := needVersion(it, path, "v1.1", version, "secondaryFiles written as {pattern, required}"); err != nil {
				return nil, err
			}
			if err := knownFields(it, path, "a secondaryFiles entry", secondaryFields); err != nil {
				return nil, err
			}
			if !it.Has("pattern") {
				return nil, errAt(it, path+".pattern", "missing")
			}
			out = append(out, SecondaryFile{Pattern: plainOf(it, "pattern"), Required: plainOf(it, "required")})
		default:
			return nil, errAt(it, path, "expected a pattern, found %s", describe(it))
		}
	}
	return out, nil
}

func decodeBinding(n *Node, path string) (*Binding, error) {
	if n.Kind != MapNode {
		return nil, errAt(n, path, "expected a mapping, found %s", describe(n))
	}
	if err := knownFields(n, path, "a binding", bindingFields); err != nil {
		return nil, err
	}
	b := &Binding{Pos: n.Pos, Position: plainOf(n, "position"), ValueFrom: plainOf(n, "valueFrom")}
	b.HasValueFrom = !n.Get("valueFrom").IsNull()
	var err error
	if b.Prefix, err = optString(n, "prefix", path); err != nil {
		return nil, err
	}
	if b.Separate, err = optBool(n, "separate", path, true); err != nil {
		return nil, err
	}
	if b.ShellQuote, err = optBool(n, "shellQuote", path, true); err != nil {
		return nil, err
	}
	if b.LoadContents, err = optBool(n, "loadContents", path, false); err != nil {
		return nil, err
	}
	if is := n.Get("itemSeparator"); !is.IsNull() {
		s, ok := is.Str()
		if !ok {
			return nil, errAt(is, path+".itemSeparator", "expected text, found %s", describe(is))
		}
		b.ItemSeparator = &s
	}
	switch pos := b.Position.(type) {
	case nil, int64, string:
	case float64:
		b.Position = int64(pos)
	default:
		return nil, errAt(n.Get("position"), path+".position", "expected an integer or an expression")
	}
	return b, nil
}

func decodeArgument(n *Node, path string) (*Binding, error) {
	if n.Kind == ScalarNode {
		if n.Value == nil {
			return nil, errAt(n, path, "an argument cannot be null")
		}
		return &Binding{Pos: n.Pos, ValueFrom: fmt.Sprint(n.Value), HasValueFrom: true, Separate: true, ShellQuote: true}, nil
	}
	return decodeBinding(n, path)
}

func decodeOutputBinding(n *Node, path string) (*OutputBinding, error) {
	if n.Kind != MapNode {
		return nil, errAt(n, path, "expected a mapping, found %s", describe(n))
	}
	if err := knownFields(n, path, "an outputBinding", outputBindingFields); err != nil {
		return nil, err
	}
	ob := &OutputBinding{Glob: plainOf(n, "glob")}
	var err error
	if ob.LoadContents, err = optBool(n, "loadContents", path, false); err != nil {
		return nil, err
	}
	if ob.LoadListing, err = optEnum(n, "loadListing", path); err != nil {
		return nil, err
	}
	ob.OutputEval, err = optString(n, "outputEval", path)
	return ob, err
}

// resolveLocations makes the location and path of File and Directory
// literals in a document absolute, relative to the document they are in.
func resolveLocations(v any, base string) any {
	switch t := v.(type) {
	case []any:
		out := make([]any, len(t))
		for i, it := range t {
			out[i] = resolveLocations(it, base)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, it := range t {
			out[k] = resolveLocations(it, base)
		}
		if c := t["class"]; c == "File" || c == "Directory" {
			for _, k := range []string{"location", "path"} {
				if s, ok := out[k].(string); ok && s != "" {
					out["location"] = resolveRef(base, s, nil)
					if k == "path" {
						delete(out, "path")
					}
					break
				}
			}
		}
		return out
	}
	return v
}
