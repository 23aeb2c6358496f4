package schema

import (
	"fmt"
	"strings"
)

var primitiveTypes = map[string]TypeKind{
	"null": TNull, "boolean": TBoolean, "int": TInt, "long": TLong,
	"float": TFloat, "double": TDouble, "string": TString, "File": TFile,
	"Directory": TDirectory, "Any": TAny, "stdout": TStdout, "stderr": TStderr,
	"stdin": "stdin",
}

// typePrefixes are vocabularies whose terms name the primitive types.
var typePrefixes = []string{
	"https://w3id.org/cwl/salad#", "https://w3id.org/cwl/cwl#",
	"http://www.w3.org/2001/XMLSchema#", "sld:", "cwl:", "xsd:",
}

// decodeType reads a type: a name, the shorthands "T[]" and "T?", a list
// (a union), or a mapping describing an array, record or enum.
func (l *Loader) decodeType(n *Node, path string, sc scope) (*Type, error) {
	switch n.Kind {
	case ScalarNode:
		s, ok := n.Str()
		if !ok {
			return nil, errAt(n, path, "expected a type, found %s", describe(n))
		}
		return l.typeFromName(s, n, path, sc)
	case SeqNode:
		u := &Type{Kind: TUnion}
		for i, it := range n.Items {
			t, err := l.decodeType(it, fmt.Sprintf("%s[%d]", path, i), sc)
			if err != nil {
				return nil, err
			}
			if t.Kind == TUnion {
				u.Union = append(u.Union, t.Union...)
			} else {
				u.Union = append(u.Union, t)
			}
		}
		if len(u.Union) == 0 {
			return nil, errAt(n, path, "an empty list is not a type")
		}
		if len(u.Union) == 1 {
			return u.Union[0], nil
		}
		return u, nil
	}
	return l.decodeTypeMap(n, path, sc)
}

func (l *Loader) typeFromName(s string, n *Node, path string, sc scope) (*Type, error) {
	// The type DSL of CWL v1.2 (schema-salad) is a type name, then
	// optionally "[]", then optionally "?": one level each, no more, so
	// "File[][]" and "File?[]" are names of no type, as other runners
	// find too.
	name, optional := strings.CutSuffix(s, "?")
	name, array := strings.CutSuffix(name, "[]")
	if (optional || array) && (strings.HasSuffix(name, "?") || strings.HasSuffix(name, "[]")) {
		return nil, errAt(n, path, "unknown type %q: CWL v1.2 reads [] and ? once each after a type name; write the type out ({type: array, items: {type: array, items: File}} for a list of lists)", s)
	}
	if optional || array {
		t, err := l.typeFromName(name, n, path, sc)
		if err != nil {
			return nil, err
		}
		if array {
			t = &Type{Kind: TArray, Items: t}
		}
		if optional {
			t = &Type{Kind: TUnion, Union: []*Type{{Kind: TNull}, t}}
		}
		return t, nil
	}
	name = s
	for _, p := range typePrefixes {
		name = strings.TrimPrefix(name, p)
	}
	if k, ok := primitiveTypes[name]; ok {
		return &Type{Kind: k}, nil
	}
	if t := l.lookupType(s, n.Base, sc); t != nil {
		return t, nil
	}
	return nil, errAt(n, path, "unknown type %q (not a CWL type, nor a type named in SchemaDefRequirement)", s)
}

// lookupType finds a named record or enum by reference, trying the ways
// documents write them: a full or relative URI, a fragment, a bare name.
func (l *Loader) lookupType(ref, base string, sc scope) *Type {
	candidates := []string{resolveRef(base, ref, sc.namespaces), docURI(base) + "#" + strings.TrimPrefix(ref, "#")}
	for _, c := range candidates {
		if t, ok := l.types[c]; ok {
			return t
		}
	}
	want := strings.TrimPrefix(ref, "#")
	for full, t := range l.types {
		if fragment(full) == want || shortID(full) == want {
			return t
		}
	}
	return nil
}

func (l *Loader) decodeTypeMap(n *Node, path string, sc scope) (*Type, error) {
	tn := n.Get("type")
	if tn == nil {
		return nil, errAt(n, path+".type", "missing; a type mapping needs 'type' (array, record or enum)")
	}
	if err := knownFields(n, path, "a type", typeMapFields); err != nil {
		return nil, err
	}
	kind, _ := tn.Str()
	var t *Type
	var err error
	switch kind {
	case "array":
		t, err = l.decodeArrayType(n, path, sc)
	case "record":
		t, err = l.decodeRecordType(n, path, sc)
	case "enum":
		t, err = l.decodeEnumType(n, path, sc)
	default:
		return l.decodeType(tn, path+".type", sc)
	}
	if err != nil {
		return nil, err
	}
	if ib := n.Get("inputBinding"); !ib.IsNull() {
		if t.InputBinding, err = decodeBinding(ib, path+".inputBinding"); err != nil {
			return nil, err
		}
	}
	return l.nameType(t, n, sc), nil
}

// nameType registers a named record or enum, filling the shell that
// registerSchemaDefs may have created so earlier references see it.
func (l *Loader) nameType(t *Type, n *Node, sc scope) *Type {
	name, _ := n.Get("name").Str()
	if name == "" || (t.Kind != TRecord && t.Kind != TEnum) {
		return t
	}
	full := resolveID(n.Base, name, sc.namespaces)
	t.Name = full
	if shell, ok := l.types[full]; ok && shell.Kind == "" {
		*shell = *t
		return shell
	}
	l.types[full] = t
	return t
}

func (l *Loader) decodeArrayType(n *Node, path string, sc scope) (*Type, error) {
	items := n.Get("items")
	if items == nil {
		return nil, errAt(n, path+".items", "missing; an array type needs items")
	}
	if err := noTypeDSL(items, path+".items"); err != nil {
		return nil, err
	}
	it, err := l.decodeType(items, path+".items", sc)
	if err != nil {
		return nil, err
	}
	return &Type{Kind: TArray, Items: it}, nil
}

func (l *Loader) decodeRecordType(n *Node, path string, sc scope) (*Type, error) {
	t := &Type{Kind: TRecord}
	list, err := entries(n.Get("fields"), path+".fields")
	if err != nil {
		return nil, err
	}
	for _, e := range list {
		f, err := l.decodeParam(e, path+".fields", "", sc, true, nil)
		if err != nil {
			return nil, err
		}
		t.Fields = append(t.Fields, f)
	}
	return t, nil
}

func (l *Loader) decodeEnumType(n *Node, path string, sc scope) (*Type, error) {
	syms, err := stringList(n.Get("symbols"), path+".symbols")
	if err != nil {
		return nil, err
	}
	if len(syms) == 0 {
		return nil, errAt(n, path+".symbols", "missing; an enum type needs symbols")
	}
	t := &Type{Kind: TEnum}
	for _, s := range syms {
		t.Symbols = append(t.Symbols, shortID(s))
	}
	return t, nil
}

// noTypeDSL refuses the [] and ? shorthands where CWL v1.2 does not read
// them: in the items of an array type (they are read in the type of a
// parameter or a record field only), where "File[]" names no type.
func noTypeDSL(n *Node, path string) error {
	items := []*Node{n}
	if n.Kind == SeqNode {
		items = n.Items
	}
	for _, it := range items {
		if s, _ := it.Str(); strings.HasSuffix(s, "[]") || strings.HasSuffix(s, "?") {
			return errAt(it, path, "unknown type %q: CWL v1.2 does not read the [] and ? shorthands in items; write the type out ({type: array, items: File} for a list, [\"null\", File] for an optional type)", s)
		}
	}
	return nil
}
