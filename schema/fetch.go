package schema

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// files reads and parses documents once per load and resolves the
// $import and $include directives while converting YAML into Nodes.
type files struct {
	mu       sync.Mutex
	trees    map[string]*Node // by document URI (no fragment)
	included map[string]bool  // paths of $include'd files
	depth    int
	// check, when set, is asked about every local file before it is
	// read, and every File or Directory location a document names (see
	// Loader.SetPathCheck).
	check func(path string) error
}

// refusedError is a file the path check refused to let the loader read.
// files.load returns it inside an *Error positioned at the file itself;
// the callers that know how the file was named (a `run:`, an $import)
// turn it into an *Error there, in the words the document used.
type refusedError struct{ err error }

func (r *refusedError) Error() string { return r.err.Error() }
func (r *refusedError) Unwrap() error { return r.err }

// refused returns the path check's error when err is load's refusal of
// the very file asked for (not of one that file refers to).
func refused(err error) (error, bool) {
	var se *Error
	var rf *refusedError
	if errors.As(err, &se) && se.Pos.Line == 0 && errors.As(se.Err, &rf) {
		return rf.err, true
	}
	return nil, false
}

// allowed asks the path check, if any, about the local file p.
func (f *files) allowed(p string) error {
	if f == nil || f.check == nil {
		return nil
	}
	return f.check(p)
}

func newFiles() *files { return &files{trees: map[string]*Node{}, included: map[string]bool{}} }

// paths lists the local files read so far, documents and included texts,
// sorted.
func (f *files) paths() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for doc := range f.trees {
		out = append(out, URIPath(doc))
	}
	for p := range f.included {
		out = append(out, p)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// load returns the tree of the document at uri (fragment ignored).
func (f *files) load(uri string) (*Node, error) {
	doc := uri
	if i := strings.Index(doc, "#"); i >= 0 {
		doc = doc[:i]
	}
	f.mu.Lock()
	n, ok := f.trees[doc]
	f.mu.Unlock()
	if ok {
		return n, nil
	}
	if !strings.HasPrefix(doc, "file://") {
		return nil, &Error{Pos: Pos{File: doc}, Msg: "only local files can be loaded; fetching remote documents is not supported", Err: ErrUnsupported}
	}
	p := URIPath(doc)
	if err := f.allowed(p); err != nil {
		return nil, &Error{Pos: Pos{File: p}, Msg: fmt.Sprintf("location %q %v", doc, err), Err: &refusedError{err}}
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, &Error{Pos: Pos{File: p}, Msg: readErrText(err)}
	}
	n, err = parseYAML(data, p, doc, f)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.trees[doc] = n
	f.mu.Unlock()
	return n, nil
}

func readErrText(err error) string {
	switch {
	case os.IsNotExist(err):
		return "file does not exist"
	case os.IsPermission(err):
		return "permission denied"
	}
	return err.Error()
}

// ParseBytes parses YAML or JSON text into a Node tree without resolving
// directives against other files (used for input objects).
func ParseBytes(data []byte, file, base string) (*Node, error) {
	return parseYAML(data, file, base, nil)
}

func parseYAML(data []byte, file, base string, f *files) (*Node, error) {
	y, text, err := parseTree(data)
	if err != nil {
		return nil, yamlError(text, file, err)
	}
	if y.Kind == 0 { // empty document
		return &Node{Kind: ScalarNode, Pos: Pos{File: file, Line: 1, Col: 1}, Base: base}, nil
	}
	c := converter{file: file, base: base, files: f}
	return c.convert(y)
}

type converter struct {
	file  string
	base  string
	files *files
	// expanding holds the anchors being expanded, so an alias inside its
	// own anchor is an error rather than endless recursion; nodes counts
	// what aliases produced, so nested aliases cannot blow up memory.
	expanding map[*yaml.Node]bool
	nodes     int
}

// maxAliasNodes bounds the nodes that aliases may expand to in one file.
const maxAliasNodes = 1_000_000

func (c *converter) pos(y *yaml.Node) Pos { return Pos{File: c.file, Line: y.Line, Col: y.Column} }

func (c *converter) convertAlias(y *yaml.Node) (*Node, error) {
	if c.expanding[y.Alias] {
		return nil, &Error{Pos: c.pos(y), Msg: fmt.Sprintf("invalid YAML: the alias *%s is inside its own anchor", y.Value)}
	}
	if c.expanding == nil {
		c.expanding = map[*yaml.Node]bool{}
	}
	c.expanding[y.Alias] = true
	defer delete(c.expanding, y.Alias)
	if c.nodes++; c.nodes > maxAliasNodes {
		return nil, &Error{Pos: c.pos(y), Msg: "invalid YAML: aliases expand to too many nodes"}
	}
	return c.convert(y.Alias)
}

func (c *converter) convert(y *yaml.Node) (*Node, error) {
	switch y.Kind {
	case yaml.DocumentNode:
		if len(y.Content) == 0 {
			return &Node{Kind: ScalarNode, Pos: c.pos(y), Base: c.base}, nil
		}
		return c.convert(y.Content[0])
	case yaml.AliasNode:
		return c.convertAlias(y)
	case yaml.SequenceNode:
		n := &Node{Kind: SeqNode, Pos: c.pos(y), Base: c.base}
		for _, it := range y.Content {
			cn, err := c.convert(it)
			if err != nil {
				return nil, err
			}
			n.Items = append(n.Items, cn)
		}
		return n, nil
	case yaml.MappingNode:
		return c.convertMap(y)
	}
	v, err := scalarValue(y)
	if err != nil {
		return nil, &Error{Pos: c.pos(y), Msg: fmt.Sprintf("cannot read value %q: %v", y.Value, err)}
	}
	return &Node{Kind: ScalarNode, Pos: c.pos(y), Value: v, Base: c.base}, nil
}

func (c *converter) convertMap(y *yaml.Node) (*Node, error) {
	if c.files != nil && len(y.Content) == 2 {
		switch y.Content[0].Value {
		case "$import":
			return c.importDoc(y.Content[1])
		case "$include":
			return c.includeText(y.Content[1])
		}
	}
	n := &Node{Kind: MapNode, Pos: c.pos(y), Base: c.base}
	for i := 0; i+1 < len(y.Content); i += 2 {
		k, v := y.Content[i], y.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, &Error{Pos: c.pos(k), Msg: "a mapping key must be plain text"}
		}
		if k.Value == "<<" && v.Kind == yaml.AliasNode { // YAML merge key
			m, err := c.convert(v.Alias)
			if err != nil {
				return nil, err
			}
			for j, mk := range m.Keys {
				if !n.Has(mk) {
					n.Set(mk, m.Vals[j])
				}
			}
			continue
		}
		if n.Has(k.Value) {
			return nil, &Error{Pos: c.pos(k), Field: k.Value, Msg: "key appears twice in the same mapping"}
		}
		cv, err := c.convert(v)
		if err != nil {
			return nil, err
		}
		n.Keys = append(n.Keys, k.Value)
		n.Vals = append(n.Vals, cv)
		if n.keyPos == nil {
			n.keyPos = map[string]Pos{}
		}
		n.keyPos[k.Value] = c.pos(k)
	}
	return n, c.checkLocations(n)
}

// checkLocations asks the path check about the location (or path) of a
// File or Directory object written in a document: a default, a step's
// default, an InitialWorkDir entry, a secondary file of one. Locations
// that are not local files are left to the engine, which cannot read them.
func (c *converter) checkLocations(n *Node) error {
	if c.files == nil || c.files.check == nil {
		return nil
	}
	if class, _ := n.Get("class").Str(); class != "File" && class != "Directory" {
		return nil
	}
	for _, k := range []string{"location", "path"} {
		v := n.Get(k)
		s, ok := v.Str()
		if !ok || s == "" {
			continue
		}
		uri := resolveRef(c.base, s, nil)
		if !strings.HasPrefix(uri, "file:") {
			continue
		}
		if err := c.files.allowed(URIPath(uri)); err != nil {
			return &Error{Pos: v.Pos, Msg: fmt.Sprintf("location %q %v", s, err), Err: &refusedError{err}}
		}
	}
	return nil
}

func (c *converter) importDoc(ref *yaml.Node) (*Node, error) {
	if ref.Kind != yaml.ScalarNode {
		return nil, &Error{Pos: c.pos(ref), Field: "$import", Msg: "expected a file name"}
	}
	c.files.depth++
	defer func() { c.files.depth-- }()
	if c.files.depth > 50 {
		return nil, &Error{Pos: c.pos(ref), Field: "$import", Msg: "imports nest more than 50 deep (an import cycle?)"}
	}
	uri := resolveRef(c.base, ref.Value, nil)
	n, err := c.files.load(uri)
	if cerr, ok := refused(err); ok {
		return nil, &Error{Pos: c.pos(ref), Field: "$import", Msg: fmt.Sprintf("location %q %v", ref.Value, cerr), Err: err}
	}
	if err != nil {
		return nil, &Error{Pos: c.pos(ref), Field: "$import", Msg: fmt.Sprintf("cannot import %q: %v", ref.Value, err), Err: err}
	}
	return n, nil
}

func (c *converter) includeText(ref *yaml.Node) (*Node, error) {
	if ref.Kind != yaml.ScalarNode {
		return nil, &Error{Pos: c.pos(ref), Field: "$include", Msg: "expected a file name"}
	}
	p := URIPath(resolveRef(c.base, ref.Value, nil))
	if err := c.files.allowed(p); err != nil {
		return nil, &Error{Pos: c.pos(ref), Field: "$include", Msg: fmt.Sprintf("location %q %v", ref.Value, err), Err: &refusedError{err}}
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, &Error{Pos: c.pos(ref), Field: "$include", Msg: fmt.Sprintf("cannot include %q: %s", ref.Value, readErrText(err))}
	}
	c.files.mu.Lock()
	c.files.included[p] = true
	c.files.mu.Unlock()
	return &Node{Kind: ScalarNode, Pos: c.pos(ref), Value: string(data), Base: c.base}, nil
}
