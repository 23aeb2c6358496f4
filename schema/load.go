package schema

import (
	"fmt"
	"slices"
	"strings"
)

// Loader turns CWL documents into Processes. One Loader serves one load
// (a document and everything it references); it caches files and named
// types across that load.
type Loader struct {
	files     *files
	types     map[string]*Type // named records and enums by full id
	depth     int
	enableDev bool
}

// NewLoader returns an empty Loader.
func NewLoader() *Loader {
	return &Loader{files: newFiles(), types: map[string]*Type{}}
}

// Load reads the document at ref (a path or file URI, optionally with a
// #fragment naming a process of a $graph) and returns its process.
func Load(ref string) (*Process, error) { return NewLoader().Load(ref) }

// SetPathCheck makes the loader ask check about every local file before
// reading it (the document, `run:` and $import targets, $include'd texts,
// $schemas) and about every File or Directory location the documents
// name, so that a caller can confine a load to some directories (flowd's
// submissions, flow run --allow-path). An error from check stops the
// load: it becomes an *Error at the place that named the file, which
// wraps it and reads `location "<as written>" <check's error>`, so
// check's error should read as a predicate ("is outside ...") and should
// not name the path it resolved.
func (l *Loader) SetPathCheck(check func(path string) error) { l.files.check = check }

// EnableDev makes the loader read documents of the development releases
// of CWL (cwlVersion v1.2.0-dev5 and the like), which it refuses by
// default.
func (l *Loader) EnableDev() { l.enableDev = true }

// Files lists the local files the loads so far read: every document and
// every $include'd text (not $schemas ontologies), sorted. It is what must
// travel with a document to load it elsewhere.
func (l *Loader) Files() []string { return l.files.paths() }

// Load is the method form of the package function Load.
func (l *Loader) Load(ref string) (*Process, error) {
	uri := ref
	if !hasScheme(ref) {
		path, frag := ref, ""
		if i := strings.LastIndex(ref, "#"); i >= 0 {
			path, frag = ref[:i], ref[i:]
		}
		uri = FileURI(path) + frag
	}
	return l.loadURI(uri, scope{})
}

// LoadAll is Load for checking a document rather than running it: a
// $graph document named without a #fragment and without a #main process
// gives each of its processes, as there is no one process to run but each
// can be valid or not. Any other document gives its one process.
func (l *Loader) LoadAll(ref string) ([]*Process, error) {
	if strings.Contains(ref, "#") {
		p, err := l.Load(ref)
		if err != nil {
			return nil, err
		}
		return []*Process{p}, nil
	}
	uri := ref
	if !hasScheme(ref) {
		uri = FileURI(ref)
	}
	root, err := l.files.load(uri)
	if err != nil {
		return nil, err
	}
	g := root.Get("$graph")
	ids := graphIDs(g)
	if len(ids) < 2 || slices.Contains(ids, "main") {
		p, err := l.Load(ref)
		if err != nil {
			return nil, err
		}
		return []*Process{p}, nil
	}
	var out []*Process
	for _, id := range ids {
		p, err := l.loadURI(uri+"#"+id, scope{})
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// graphIDs lists the fragments of the ids of a $graph's processes.
func graphIDs(g *Node) []string {
	if g == nil || g.Kind != SeqNode {
		return nil
	}
	var ids []string
	for _, it := range g.Items {
		if id, _ := it.Get("id").Str(); id != "" {
			ids = append(ids, fragment(resolveID(it.Base, id, nil)))
		}
	}
	return ids
}

// scope is what a document inherits from the one that contains it.
type scope struct {
	version    string
	namespaces map[string]string
	schemas    []string
	graph      map[string]*Node // $graph entries by full id
	graphRoot  *Node
	top        bool
}

func (l *Loader) loadURI(uri string, parent scope) (*Process, error) {
	l.depth++
	defer func() { l.depth-- }()
	if l.depth > 64 {
		return nil, &Error{Pos: Pos{File: URIPath(uri)}, Msg: "processes nest more than 64 deep (does a step run its own workflow?)"}
	}
	root, err := l.files.load(uri)
	if err != nil {
		return nil, err
	}
	frag := ""
	if i := strings.Index(uri, "#"); i >= 0 {
		frag = uri[i+1:]
	}
	if root.Kind != MapNode {
		return nil, errAt(root, "", "expected a CWL document (a mapping with 'class'), found %s", describe(root))
	}
	sc := scope{version: parent.version, namespaces: parent.namespaces, schemas: parent.schemas, top: true}
	sc.readHeader(root)
	if err := l.checkSchemas(root); err != nil {
		return nil, err
	}
	if g := root.Get("$graph"); g != nil {
		return l.loadFromGraph(root, g, frag, sc)
	}
	if frag != "" {
		if id, _ := root.Get("id").Str(); id == "" || fragment(resolveID(root.Base, id, nil)) != frag {
			return nil, errAt(root, "id", "the document has no process with id %q", "#"+frag)
		}
	}
	return l.decodeProcess(root, sc, docURI(uri))
}

// checkSchemas asks the path check about the local $schemas of a
// document, which the engine reads to match file formats.
func (l *Loader) checkSchemas(root *Node) error {
	s := root.Get("$schemas")
	if s == nil || s.Kind != SeqNode {
		return nil
	}
	for _, it := range s.Items {
		v, ok := it.Str()
		if !ok {
			continue
		}
		uri := resolveRef(root.Base, v, nil)
		if !strings.HasPrefix(uri, "file:") {
			continue
		}
		if err := l.files.allowed(URIPath(uri)); err != nil {
			return &Error{Pos: it.Pos, Field: "$schemas", Msg: fmt.Sprintf("location %q %v", v, err), Err: &refusedError{err}}
		}
	}
	return nil
}

func docURI(uri string) string {
	if i := strings.Index(uri, "#"); i >= 0 {
		return uri[:i]
	}
	return uri
}

// readHeader takes cwlVersion, $namespaces and $schemas from a document root.
func (sc *scope) readHeader(root *Node) {
	if v, ok := root.Get("cwlVersion").Str(); ok {
		sc.version = v
	}
	if ns := root.Get("$namespaces"); ns != nil && ns.Kind == MapNode {
		merged := map[string]string{}
		for k, v := range sc.namespaces {
			merged[k] = v
		}
		for i, k := range ns.Keys {
			if s, ok := ns.Vals[i].Str(); ok {
				merged[k] = s
			}
		}
		sc.namespaces = merged
	}
	if s := root.Get("$schemas"); s != nil && s.Kind == SeqNode {
		for _, it := range s.Items {
			if v, ok := it.Str(); ok {
				sc.schemas = append(sc.schemas, resolveRef(root.Base, v, nil))
			}
		}
	}
}

func (l *Loader) loadFromGraph(root, g *Node, frag string, sc scope) (*Process, error) {
	if g.Kind != SeqNode {
		return nil, errAt(g, "$graph", "expected a list of processes")
	}
	sc.graph = map[string]*Node{}
	sc.graphRoot = root
	var ids []string
	for _, item := range g.Items {
		id, _ := item.Get("id").Str()
		if id == "" {
			return nil, errAt(item, "$graph", "every process in $graph needs an id")
		}
		full := resolveID(root.Base, id, sc.namespaces)
		sc.graph[full] = item
		ids = append(ids, "#"+fragment(full))
	}
	want := frag
	if want == "" {
		want = "main"
	}
	for full, item := range sc.graph {
		if fragment(full) == want {
			return l.decodeProcess(item, sc, full)
		}
	}
	if frag == "" && len(g.Items) == 1 {
		id, _ := g.Items[0].Get("id").Str()
		return l.decodeProcess(g.Items[0], sc, resolveID(root.Base, id, sc.namespaces))
	}
	return nil, errAt(g, "$graph", "no process with id %q; the document has %s", "#"+want, strings.Join(ids, ", "))
}

// describe names the kind of a node for messages.
func describe(n *Node) string {
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case MapNode:
		return "a mapping"
	case SeqNode:
		return "a list"
	}
	switch v := n.Value.(type) {
	case nil:
		return "null"
	case string:
		if len(v) > 40 {
			v = v[:37] + "..."
		}
		return fmt.Sprintf("the text %q", v)
	case bool:
		return fmt.Sprintf("the boolean %v", v)
	}
	return fmt.Sprintf("the number %v", n.Value)
}
